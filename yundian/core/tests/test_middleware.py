"""The lighter path: which requests are light, and what the wrapped middleware skip for them and only for them."""
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpResponse
from django.middleware import csrf
from django.test import RequestFactory, override_settings

from yundian.core import middleware
from yundian.core.middleware import bearer_api_request, is_light

rf = RequestFactory()


def test_only_bearer_requests_under_the_api_are_light():
    assert bearer_api_request(rf.get("/api/v1/me", headers={"Authorization": "Bearer yd_x_y"}))
    assert bearer_api_request(rf.get("/api/v1/me", headers={"Authorization": "bearer yd_x_y"}))
    assert not bearer_api_request(rf.get("/api/v1/me"))
    assert not bearer_api_request(rf.get("/api/v1/me", headers={"Authorization": "Basic YTpi"}))
    assert not bearer_api_request(rf.get("/api/v1/me", headers={"Authorization": "Bearer"}))
    assert not bearer_api_request(rf.get("/pos/", headers={"Authorization": "Bearer yd_x_y"}))
    assert not bearer_api_request(rf.get("/apiary/", headers={"Authorization": "Bearer yd_x_y"}))


def test_the_wrappers_are_djangos_middleware_so_its_checks_still_find_them():
    assert issubclass(middleware.SessionMiddleware, sessions.SessionMiddleware)
    assert issubclass(middleware.AuthenticationMiddleware, auth.AuthenticationMiddleware)
    assert issubclass(middleware.MessageMiddleware, messages.MessageMiddleware)


def _chain(request):
    """Session -> CSRF -> auth -> messages around a view that records what it was given."""
    seen = {}

    def view(req):
        seen.update(session=hasattr(req, "session"), messages=hasattr(req, "_messages"),
                    user=req.user.is_authenticated, csrf=req.META.get("CSRF_COOKIE"))
        return HttpResponse("ok")

    handler = middleware.MessageMiddleware(view)
    handler = middleware.AuthenticationMiddleware(handler)
    handler = csrf.CsrfViewMiddleware(handler)
    handler = middleware.SessionMiddleware(handler)
    response = handler(request)
    return seen, response


def test_a_light_request_gets_no_session_no_messages_and_an_anonymous_user(db):
    request = rf.get("/api/v1/me", headers={"Authorization": "Bearer yd_x_y"})
    request.COOKIES["sessionid"] = "whatever"
    seen, response = _chain(request)
    assert seen == {"session": False, "messages": False, "user": False, "csrf": None}
    assert "sessionid" not in response.cookies and not response.has_header("Vary")


def test_every_other_request_goes_through_the_middleware_as_before(db):
    for request in (rf.get("/api/v1/me"), rf.get("/api/v1/me", headers={"Authorization": "Basic YTpi"}),
                    rf.get("/pos/", headers={"Authorization": "Bearer yd_x_y"})):
        seen, _response = _chain(request)
        assert seen["session"] and seen["messages"] and seen["user"] is False


def test_djangos_csrf_check_lets_a_bearer_write_to_the_api_through_and_still_refuses_a_cookie_write_elsewhere():
    """Django's own CsrfViewMiddleware stays in MIDDLEWARE (the deploy checks look for it by name): the API's views
    are CSRF-exempt to it (django-ninja checks CSRF itself for cookie auth), a console page is not."""
    from django.urls import resolve

    guard = csrf.CsrfViewMiddleware(lambda r: HttpResponse())
    api_view = resolve("/api/v1/org/nodes").func
    bearer_post = rf.post("/api/v1/org/nodes", headers={"Authorization": "Bearer yd_x_y"})
    guard.process_request(bearer_post)
    assert guard.process_view(bearer_post, api_view, (), {}) is None

    def page(request):
        return HttpResponse()

    cookie_post = rf.post("/console/")
    cookie_post.COOKIES["sessionid"] = "whatever"
    guard.process_request(cookie_post)
    refused = guard.process_view(cookie_post, page, (), {})
    assert refused is not None and refused.status_code == 403


@override_settings(LIGHT_REQUESTS=["yundian.core.tests.test_middleware.health_rule"])
def test_the_rules_come_from_settings_and_are_asked_once_per_request():
    asked = []
    health_rule.asked = asked
    request = rf.get("/healthz")
    assert is_light(request) and is_light(request)
    assert asked == ["/healthz"]
    assert not is_light(rf.get("/api/v1/me", headers={"Authorization": "Bearer yd_x_y"}))


def health_rule(request) -> bool:
    health_rule.asked.append(request.path_info)
    return request.path_info == "/healthz"
