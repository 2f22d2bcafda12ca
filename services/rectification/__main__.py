from services.kit.serve import serve_service
from services.rectification.config import Settings
from services.rectification.main import build_app

settings = Settings()
serve_service(build_app(settings), settings)
