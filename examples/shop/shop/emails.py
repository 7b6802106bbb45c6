"""A cron that fans out one task per pending email."""

from shop.client import pb
from shop.data import PENDING_EMAILS


@pb.cron("send-emails", "*/15 * * * *", retries=1, timeout="60s")
def send_emails(ctx):
    for email in PENDING_EMAILS:
        ctx.task("send-email", {"id": email["id"], "to": email["to"]})
    ctx.log("Dispatched emails", count=len(PENDING_EMAILS))
    return {"dispatched": len(PENDING_EMAILS)}


@pb.task("send-email", retries=2, timeout="15s", concurrency=5)
def send_email(ctx, payload):
    if payload["id"] == "e2" and ctx.attempt == 1:
        # The mail server is flaky: the first try fails, the platform's retry succeeds.
        raise ConnectionError("SMTP server closed the connection")
    ctx.log("Sent email", to=payload["to"], attempt=ctx.attempt)
    return {"sent": payload["id"]}
