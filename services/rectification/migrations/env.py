from services.kit.migrations import run_env
from services.rectification.models import metadata

run_env(metadata)
