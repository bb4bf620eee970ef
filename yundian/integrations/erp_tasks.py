"""Background work of ERP sync: run one job (woken when it is queued), and the schedules plus a sweep of queued
jobs whose wake-up was lost (every 5 minutes). Idempotent: a job is claimed once; imports skip what they set."""
from django.tasks import task


@task()
def erp_job_run_task(job_id: int) -> str:
    from .erp_jobs import erp_job_run

    job = erp_job_run(job_id=job_id)
    return job.status if job else "skipped"


@task()
def erp_schedules_tick() -> int:
    from .erp_jobs import erp_jobs_run_queued, erp_schedules_run

    return erp_schedules_run() + erp_jobs_run_queued()
