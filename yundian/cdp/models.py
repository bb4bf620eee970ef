"""The OLTP side of the customer-data context: the inbox where accepted behaviour events wait for the warehouse.

The events API writes here (one bulk insert per batch), so a web request never opens DuckDB; `cdp.inbox.inbox_flush`
moves rows into the warehouse's fact_event each minute and the nightly purge forgets rows already moved.
"""
from django.db import models


class EventInbox(models.Model):
    """One accepted event, validated and normalised, waiting for the warehouse. Insert-only until purged.

    `event_key` is the sender's message id; (enterprise, event_key) is unique, so a retried batch inserts nothing
    twice (bulk_create with ignore_conflicts). Ids are read by the flush in order with a watermark; on PostgreSQL
    an id can commit after a higher one, which the flush's gap re-check covers."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=64)
    kind = models.CharField(max_length=24)
    name = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(db_index=True)
    anonymous_id = models.CharField(max_length=64, blank=True)
    member_id = models.BigIntegerField(null=True, db_index=True)
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    sku_id = models.BigIntegerField(null=True)
    order_id = models.BigIntegerField(null=True)
    amount = models.BigIntegerField(null=True)
    properties = models.TextField(default="{}")  # JSON text, as the warehouse keeps it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "event_key"], name="cdp_inbox_key_unique")]
