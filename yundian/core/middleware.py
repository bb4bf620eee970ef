"""A lighter path through the middleware for requests that carry their own credential (not a cookie).

A request is *light* when one of the rules named in `settings.LIGHT_REQUESTS` says so (each a dotted path to
`rule(request) -> bool`, asked once per request; by default `bearer_api_request`: a bearer-token request under
/api/). A light request skips the middleware that serve a browser's state, each wrapped here under Django's name:

    SessionMiddleware         no session is loaded or saved: `request.session` does not exist
    AuthenticationMiddleware  `request.user` is AnonymousUser: no session cookie can authenticate a light request
    MessageMiddleware         no flash messages are read or written

and keeps the rest: Django's own CsrfViewMiddleware stays as it is (`manage.py check --deploy` looks for it by name;
the API's views are CSRF-exempt to it — django-ninja checks CSRF itself for cookie auth only — so a bearer request
costs it one cookie lookup), security headers, locale — the language still comes from Accept-Language or the language
cookie —, common, clickjacking, htmx, the storefront's time zone). A rule may mark a request light only when its view
reads no session, no messages and no `request.user` beyond "anonymous". Another middleware is made skippable the
same way: `class Mine(SkipWhenLight, TheirMiddleware)`, with `when_light` for what a light request gets instead.
"""
import functools

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.utils.module_loading import import_string

_LIGHT_ATTR = "_yundian_light"
DEFAULT_RULES = ("yundian.core.middleware.bearer_api_request",)
API_PREFIX = "/api/"


def bearer_api_request(request) -> bool:
    """Under the API, with `Authorization: Bearer …` (any case, as django-ninja reads it): the credential is
    the header, so a session cookie sent along is never read."""
    return (request.path_info.startswith(API_PREFIX)
            and request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer ")


@functools.lru_cache(maxsize=8)
def _rules(names: tuple[str, ...]) -> tuple:
    return tuple(import_string(name) for name in names)


def is_light(request) -> bool:
    """Whether this request takes the lighter path (decided once, on first asking)."""
    light = request.__dict__.get(_LIGHT_ATTR)
    if light is None:
        names = tuple(getattr(settings, "LIGHT_REQUESTS", DEFAULT_RULES))
        light = any(rule(request) for rule in _rules(names))
        setattr(request, _LIGHT_ATTR, light)
    return light


class SkipWhenLight:
    """Mixed in before a middleware class: a light request goes straight on (after `when_light`), every other one
    through the middleware as before. The middleware's process_view / process_exception / process_template_response
    hooks are skipped the same way. The result is still a subclass of the middleware (Django's checks look for
    subclasses: the admin's for sessions, auth and messages)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for hook in _HOOKS:
            method = getattr(cls, hook, None)
            if method is not None and not getattr(method, "skips_light", False):
                setattr(cls, hook, _unless_light(method))

    def __call__(self, request):
        if is_light(request):
            self.when_light(request)
            return self.get_response(request)
        return super().__call__(request)

    def when_light(self, request) -> None:
        """What a light request gets in place of the middleware's work (nothing by default)."""


_HOOKS = ("process_view", "process_exception", "process_template_response")


def _unless_light(method):
    @functools.wraps(method)
    def hook(self, request, *args):
        return None if is_light(request) else method(self, request, *args)

    hook.skips_light = True
    return hook


class SessionMiddleware(SkipWhenLight, sessions.SessionMiddleware):
    pass


async def _anonymous():
    return AnonymousUser()


class AuthenticationMiddleware(SkipWhenLight, auth.AuthenticationMiddleware):
    def when_light(self, request) -> None:
        request.user = AnonymousUser()
        request.auser = _anonymous


class MessageMiddleware(SkipWhenLight, messages.MessageMiddleware):
    pass
