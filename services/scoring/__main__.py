from services.kit.serve import serve_service
from services.scoring.config import Settings
from services.scoring.main import build_app

settings = Settings()
serve_service(build_app(settings), settings)
