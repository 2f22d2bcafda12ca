from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from services.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLING_", extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "sampling"
    port: int = 8001
    # `python -m services.sampling.demo` loads the synthetic city unless this is false.
    demo_data: bool = True
