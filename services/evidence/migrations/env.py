from services.kit.migrations import run_env
from services.evidence.models import metadata

run_env(metadata)
