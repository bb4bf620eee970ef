"""The REST API at /api/v1: one NinjaAPI, auth (session for pages, bearer token for integrators), one error shape.

Every error answers `{"error": {"code": "...", "message": "<translated>", "details": {...}}}`.
Context routers are mounted here; each handler parses, calls one service or selector, returns a schema.
"""
import inspect
import logging
from functools import wraps

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from yundian.core.errors import DomainError
from yundian.core.middleware import is_light
from yundian.core.schemas import document_csrf_failures
from yundian.org import services as org_services
from yundian.org.selectors import staff_for_user

log = logging.getLogger(__name__)


class StaffSessionAuth(SessionAuth):
    """Browser session (CSRF-checked); the request acts as the user's staff member."""

    def _get_key(self, request: HttpRequest):
        # without a session cookie there is no session to forge: skip the CSRF check so that a client with a
        # missing or bad bearer token hears 401 (sign in), not 403 (CSRF); a bearer request (light: no session was
        # loaded) is never authenticated by a cookie sent along with it
        if self.param_name not in request.COOKIES or is_light(request):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key):
        if key is None:  # no cookie, or a bearer request: never the session's user, whatever the middleware did
            return None
        return staff_for_user(request.user)


class StaffTokenAuth(HttpBearer):
    """`Authorization: Bearer yd_<prefix>_<secret>` for integrators."""

    def authenticate(self, request: HttpRequest, token: str):
        return org_services.api_token_authenticate(token)


class YundianAPI(NinjaAPI):
    """NinjaAPI whose unknown paths (404) and wrong methods (405) also answer in the one error shape."""

    def get_openapi_schema(self, *args, **kwargs):
        document_csrf_failures(self)  # writes a session may call answer 403 csrf_failed too
        return super().get_openapi_schema(*args, **kwargs)

    def _get_urls(self):
        urls = [_shape_405(u) for u in super()._get_urls()]
        # last, after every router: any other path under the API prefix
        urls.append(re_path(r"^.*$", _api_not_found, name="not-found"))
        return urls


def _api_not_found(request: HttpRequest, *args, **kwargs):
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


_api_not_found.csrf_exempt = True  # nothing happens here; answer 404 whatever the method


def _shape_405(url):
    view = getattr(url, "callback", None)
    if not isinstance(url, URLPattern) or view is None or inspect.iscoroutinefunction(view):
        return url

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            shaped = JsonResponse(error_body("method_not_allowed", _("This method is not allowed here.")), status=405)
            shaped["Allow"] = response["Allow"]
            return shaped
        return response

    url.callback = wrapped
    return url


api = YundianAPI(
    title="Yundian API",
    version="1",
    description="REST API of Yundian (云店). Authenticate with a session cookie or a bearer token.",
    auth=[StaffTokenAuth(), StaffSessionAuth()],
    urls_namespace="api",
)


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, {"error": exc.as_dict()}, status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ())]
        fields.append({"loc": loc, "type": err.get("type", ""), "message": str(err.get("msg", ""))})
    malformed = any(f["type"] in ("json_invalid", "model_attributes_type") and f["loc"][:1] == ["body"] for f in fields)
    if malformed:
        return api.create_response(request, error_body("malformed_body", _("The request body is not valid JSON."),
                                                        {"fields": fields}), status=400)
    return api.create_response(request, error_body("invalid", _("Some fields are not valid."), {"fields": fields}),
                               status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return api.create_response(request, error_body("unauthenticated", _("Sign in or send a valid API token.")), status=401)


@api.exception_handler(Http404)
def on_404(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 405: "method_not_allowed",
             413: "payload_too_large", 429: "too_many_requests"}
    messages = {400: _("The request could not be processed."), 401: _("Sign in or send a valid API token."),
                403: _("You do not have permission to do this."), 429: _("Too many requests; try again later.")}
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, ValueError):
        # django-ninja could not parse the body (not JSON, bad encoding): raised `from` the decoding error
        return api.create_response(request, error_body("malformed_body", _("The request body is not valid JSON.")),
                                   status=400)
    if status == 403 and str(exc).startswith("CSRF"):
        return api.create_response(request, error_body("csrf_failed", _("The CSRF check failed; reload the page and try again.")),
                                   status=403)
    return api.create_response(request, error_body(codes.get(status, "http_error"),
                                                   messages.get(status, str(exc))), status=status)


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    # an integer beyond 64 bits that reached the database driver (SQLite raises before sending it): the whole
    # request's transaction has already rolled back, so nothing changed
    return api.create_response(request, error_body("value_out_of_range", _("A number is out of range.")), status=422)


@api.exception_handler(DataError)
def on_data_error(request, exc):
    # a value the database refuses to store or compare (e.g. a time-zone offset PostgreSQL does not accept)
    return api.create_response(request, error_body("value_out_of_range",
                                                    _("A value is out of the range the database accepts.")), status=422)


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    from django.core.exceptions import RequestDataTooBig
    from django.http.request import RawPostDataException  # noqa: F401

    if isinstance(exc, RequestDataTooBig):
        return api.create_response(request, error_body("payload_too_large", _("The request is too large.")), status=413)
    log.exception("unexpected error in API", exc_info=exc)
    return api.create_response(request, error_body("server_error", _("Something went wrong on our side.")), status=500)


from yundian.org.api import router as org_router  # noqa: E402

api.add_router("/", org_router)

from yundian.catalog.api import router as catalog_router  # noqa: E402

api.add_router("/catalog", catalog_router)

from yundian.stores.api import router as stores_router  # noqa: E402

api.add_router("/stores", stores_router)

from yundian.members.api import router as members_router  # noqa: E402

api.add_router("/members", members_router)

from yundian.sales.api import router as sales_router  # noqa: E402

api.add_router("/sales", sales_router)

from yundian.inventory.api import router as inventory_router  # noqa: E402

api.add_router("/inventory", inventory_router)

from yundian.guides.api import router as guides_router  # noqa: E402
from yundian.guides.task_api import router as guide_tasks_router  # noqa: E402

api.add_router("/guides", guides_router)
api.add_router("/guides", guide_tasks_router)

from yundian.promotions.api import router as promotions_router  # noqa: E402

api.add_router("/promotions", promotions_router)

from yundian.cdp.api import router as cdp_router  # noqa: E402

api.add_router("/events", cdp_router)

from yundian.cdp.tag_api import router as cdp_tags_router  # noqa: E402

api.add_router("/cdp", cdp_tags_router)

from yundian.cdp.segment_actions_api import router as cdp_segment_actions_router  # noqa: E402

api.add_router("/cdp", cdp_segment_actions_router)

from yundian.cdp.segment_api import router as cdp_segments_router  # noqa: E402

api.add_router("/cdp/segments", cdp_segments_router)

from yundian.journeys.api import router as journeys_router  # noqa: E402

api.add_router("/journeys", journeys_router)
from yundian.messaging.api import router as messaging_router  # noqa: E402

api.add_router("/messaging", messaging_router)
from yundian.analytics.diagnosis_api import router as diagnosis_router  # noqa: E402

api.add_router("/analytics", diagnosis_router)
from yundian.staffing.api import router as staffing_router  # noqa: E402

api.add_router("/staffing", staffing_router)
from yundian.integrations.api import router as integrations_router  # noqa: E402

api.add_router("/integrations", integrations_router)
