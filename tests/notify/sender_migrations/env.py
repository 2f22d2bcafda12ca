from services.kit.migrations import run_env
from tests.notify.sender_app import metadata

run_env(metadata)
