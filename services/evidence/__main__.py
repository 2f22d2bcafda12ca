"""``python -m services.evidence`` serves the service."""

from services.evidence.config import Settings
from services.evidence.main import build_app
from services.kit.serve import serve_service

settings = Settings()
serve_service(build_app(settings), settings)
