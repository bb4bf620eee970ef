"""The store day's server settings: production-like `config.settings.base`, with sign-in codes for members written
to DATA_DIR/member-codes.jsonl (yundian.members.senders.FileCodeSender) instead of an SMS gateway, so the storefront
shoppers of the load test can read the code they asked for and sign in."""
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import DATA_DIR

MEMBER_CODE_SENDER = "yundian.members.senders.FileCodeSender"
MEMBER_CODE_FILE = DATA_DIR / "member-codes.jsonl"
