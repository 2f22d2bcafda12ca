"""API shapes of the milestone calendar feed."""

from __future__ import annotations

from pydantic import ConfigDict

from services.kit.schema import OutputModel


class CalendarTokenRead(OutputModel):
    """The secret URL of your milestone calendar feed (subscribe to it in a calendar app)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://dangjian.example.cn/api/v1/rectification/calendar/Xq3v9kT2bWm8pLr4sZ7yNc1dHf6gJa0eUo5iVw.ics",
                    "token": "Xq3v9kT2bWm8pLr4sZ7yNc1dHf6gJa0eUo5iVw",
                }
            ]
        }
    )

    url: str
    """The feed's URL (issuing a new token makes the old URL stop working)"""
    token: str
    """The secret token in the URL"""
