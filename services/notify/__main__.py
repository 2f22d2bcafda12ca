from services.kit.serve import serve_service
from services.notify.config import Settings
from services.notify.main import build_app

settings = Settings()
serve_service(build_app(settings), settings)
