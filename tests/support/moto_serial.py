"""moto's server, answering one request at a time (started by tests/support/moto.sh).

moto's TransactWriteItems copies the tables, checks the conditions and writes with no lock, so on
its threaded server two racing transactions can both pass their conditions, which DynamoDB never
allows; the more indexes a table has, the longer the copy and the wider that window. Serving
requests one at a time (connections still get their own threads) gives the atomicity the race
tests rely on, as DynamoDB does.

    python moto_serial.py HOST PORT
"""

import os
import sys
import threading

from werkzeug.serving import run_simple

from moto.core.common_models import BaseModel
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

# moto keeps every model object it ever makes for its dashboard (/moto-api/data.json): every
# DynamoDB item, and every copy of every table each TransactWriteItems makes. Over a test run that
# grew without bound, so data.json, which the mail tests read for SES's sent messages, took many
# seconds, and this serial server answered no one else meanwhile (requests timed out: 500s and
# 503s in whichever test ran beside). Only SES's messages are kept for it.
KEPT_FOR_DATA_JSON = {("moto.ses.models", "Message"), ("moto.ses.models", "RawMessage")}


def _new_model(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if (cls.__module__, cls.__name__) in KEPT_FOR_DATA_JSON:
        cls.instances_tracked.append(instance)
    return instance


BaseModel.__new__ = _new_model


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serial(environ, start_response):
        with one_at_a_time:
            return list(app(environ, start_response))

    run_simple(host, port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
