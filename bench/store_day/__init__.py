"""A store day of traffic against a real server: load (locust), crashes (SIGKILL of the server and the worker while
clients retry with their idempotency keys), invariant checks and the printed tables. Entry: bench/store_day.py.

    client.py     a small HTTP client (http.client) with a signed-in session, CSRF and retries under one key
    actions.py    what each persona does (clerk checkout by barcode, return, transfer, stocktake, member desk,
                  storefront, flash-sale buyer), with acknowledgements logged for the crash check
    servers.py    a fresh database, seeding, gunicorn and the task worker as killable process groups
    seed.py       (runs with Django) seeds the store day and verifies the invariants afterwards
    crash.py      the crash driver: client threads + SIGKILLs + restarts, then the invariants
    locustfile.py the locust personas over the same actions
    report.py     the tables
"""
