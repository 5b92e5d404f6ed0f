"""Follow a refused form back to its page (core.refusals): the page is where the message and the typed values show."""

from __future__ import annotations


def refused_page(client, response, page_url: str) -> str:
    """Assert the refusal redirected to `page_url` (anchors aside) and return that page's HTML."""
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert location.split("#")[0] == page_url, location
    page = client.get(location)
    assert page.status_code == 200
    return page.content.decode()
