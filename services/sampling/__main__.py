from services.kit.serve import serve_service
from services.sampling.config import Settings
from services.sampling.main import build_app

settings = Settings()
serve_service(build_app(settings), settings)
