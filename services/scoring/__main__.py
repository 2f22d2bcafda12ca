import gc

from services.kit.serve import serve_service
from services.scoring.config import Settings
from services.scoring.main import build_app

settings = Settings()
app = build_app(settings)
# Everything built so far (routes, schemas, the rubric models) lives for the whole process: keep it out
# of the cyclic collector's full passes, which otherwise show up as pauses inside request handling.
gc.freeze()
serve_service(app, settings)
