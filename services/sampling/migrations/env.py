from services.kit.migrations import run_env
from services.sampling.models import metadata

run_env(metadata)
