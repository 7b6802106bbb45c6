"""A nightly workflow: settle each order, charge it, then send the receipt."""

from dataclasses import dataclass

from shop.client import pb
from shop.data import OPEN_ORDERS


@dataclass
class Charge:
    order_id: str
    amount: int


@pb.cron("settle-orders", "0 2 * * *", timeout="300s")
def settle_orders(ctx):
    for order in OPEN_ORDERS:
        ctx.task("charge-card", order)
    return {"orders": len(OPEN_ORDERS)}


@pb.task("charge-card", retries=3, timeout="30s", concurrency=2)
def charge_card(ctx, payload: Charge):
    charge = payload
    ctx.log("Charging card", order=charge.order_id, cents=charge.amount)
    ctx.task("send-receipt", {"order_id": charge.order_id})
    return {"charged": charge.amount}


@pb.task("send-receipt")
def send_receipt(ctx, order_id):
    ctx.log("Receipt sent", order=order_id)
    return {"receipt": order_id}
