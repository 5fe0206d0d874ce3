"""Social media platforms, each mapped to the kind of tool the Code lists."""

from __future__ import annotations

# Platform name -> id of the Code's kind of social media tool (resources/code_of_conduct).
PLATFORMS: dict[str, str] = {
    "Facebook": "social-networking",
    "Instagram": "photo-video",
    "X (Twitter)": "blogs",
    "TikTok": "photo-video",
    "YouTube": "photo-video",
    "Snapchat": "photo-video",
    "WhatsApp": "collaboration",
    "Threads": "blogs",
    "Bluesky": "blogs",
    "Mumsnet": "collaboration",
    "Nextdoor": "social-networking",
    "Reddit": "bookmarking",
    "Blog": "blogs",
    "Other": "social-networking",
}


def known_platforms() -> list[str]:
    """Platform names offered in pick lists, most common first."""
    return list(PLATFORMS)
