"""A stand-in for the shop's database."""

PENDING_EMAILS = [
    {"id": "e1", "to": "ada@example.com", "subject": "Your order shipped"},
    {"id": "e2", "to": "grace@example.com", "subject": "Welcome to the shop"},
    {"id": "e3", "to": "linus@example.com", "subject": "Your receipt"},
]

OPEN_ORDERS = [
    {"order_id": "o-1001", "amount": 4200},
    {"order_id": "o-1002", "amount": 1999},
]
