"""An email backend for a worker a test means to kill right after a send.

It writes each message as Django's file backend does (the mail server has it), then creates the
file named by ``ARTSPOT_TEST_STALL_FLAG`` and hangs, so the test can SIGKILL the worker between
the send and whatever the task would do next.
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend


class EmailBackend(FileBackend):
    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        Path(os.environ["ARTSPOT_TEST_STALL_FLAG"]).touch()
        time.sleep(600)  # until the test kills this process
        return sent
