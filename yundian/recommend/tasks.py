"""Background work for recommendations. Idempotent: a second run makes another version (or rescues nothing new)."""
from django.tasks import task


@task()
def recommend_train_nightly() -> int:
    """Nightly: train every enterprise's models on the warehouse (a new version each); returns the versions fitted."""
    from yundian.org.models import Enterprise

    from .models import ModelStatus
    from .services import recommend_train

    return sum(recommend_train(enterprise_id=enterprise_id).status == ModelStatus.FITTED
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))


@task()
def browse_abandon_rescue() -> int:
    """Hourly: hand each member who browsed a category without buying to their guide once a week; returns rescues."""
    from yundian.org.models import Enterprise

    from .rescue import rescue_run

    return sum(len(rescue_run(enterprise_id=enterprise_id))
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))


@task()
def recommend_train_one(enterprise_id: int, actor_id: int | None = None) -> int:
    """On demand (the recommendations page): train one enterprise's models; returns the new version."""
    from yundian.org.models import Staff

    from .services import recommend_train

    actor = Staff.objects.filter(pk=actor_id).first() if actor_id else None
    return recommend_train(enterprise_id=enterprise_id, actor=actor).version
