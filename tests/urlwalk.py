"""Enumerate every URL pattern of the project with sample arguments, for whole-site tests."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000001", "path": "x"}
CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + route, ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            full = f"{namespace}:{name}" if namespace and name else name
            yield full, prefix + route


def all_urls(skip_prefixes=("admin/",)) -> list[tuple[str, str]]:
    """Return (name, concrete path) for every non-admin route, with converters filled in."""
    urls = []
    for name, route in _walk(get_resolver().url_patterns):
        if route.startswith(skip_prefixes) or route.startswith("^"):
            continue
        path = CONVERTER.sub(lambda m: SAMPLE.get(m.group("conv") or "str", "1"), route)
        urls.append((name, "/" + path))
    return urls


def all_routes(skip_prefixes=("admin/",)) -> list[tuple[str, str]]:
    """Return (name, route with its converters) for every non-admin route, for tests that fill real ids."""
    return [
        (name, route)
        for name, route in _walk(get_resolver().url_patterns)
        if not route.startswith(skip_prefixes) and not route.startswith("^")
    ]


def websocket_routes() -> list[str]:
    """Return the route of every WebSocket URL pattern of the project."""
    from config.routing import websocket_urlpatterns

    return [str(entry.pattern) for entry in websocket_urlpatterns]
