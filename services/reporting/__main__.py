"""``python -m services.reporting`` serves the service; ``python -m services.reporting rebuild``
drops the read model and replays the event store (see services.reporting.rebuild)."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from services.reporting.rebuild import main

    main()
else:
    from services.kit.serve import serve_service
    from services.reporting.config import Settings
    from services.reporting.main import build_app

    settings = Settings()
    serve_service(build_app(settings), settings)
