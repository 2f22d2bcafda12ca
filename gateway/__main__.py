from gateway.config import Settings
from gateway.main import build_app
from services.kit.serve import serve

settings = Settings()
serve(
    build_app(settings),
    host=settings.host,
    port=settings.port,
    process="gateway",
    log_level=settings.log_level,
    log_json=settings.log_json,
)
