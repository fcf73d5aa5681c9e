"""nosec forms on one line: each statement below triggers at least one bandit test.

This file is test data for tests/test_bandit_nosec.py: it is never imported or run.
"""

import pickle  # nosec: import_pickle
import marshal  # nosec import_marshal
import subprocess  # nosec B404
import telnetlib  # nosec
import ftplib  # nosec: no network here
import xmlrpc.client  # nosec B999
import xml.sax  # nosec B101
from xml.dom import minidom  # nosec B404, import_xml_minidom
import xml.etree.ElementTree as ET  # nosec b405
from lxml import etree  # nosec: B001


def run(cmd, data, password="hunter2"):  # nosec B107
    subprocess.Popen(cmd, shell=True)  # nosec
    subprocess.Popen(cmd, shell=True)  # nosec B602
    subprocess.Popen(cmd, shell=True)  # nosec: B602
    subprocess.Popen(cmd, shell=True)  # nosec B602, B607
    subprocess.Popen(cmd, shell=True)  # nosec B607,B602
    subprocess.Popen(cmd, shell=True)  # nosec B602,B607
    subprocess.Popen("ls", shell=True)  # nosec B602, B607
    subprocess.Popen("ls", shell=True)  # nosec B607
    subprocess.Popen(cmd, shell=True)  # nosec subprocess_popen_with_shell_equals_true
    subprocess.Popen(cmd, shell=True)  # nosec: B607, subprocess_popen_with_shell_equals_true
    subprocess.Popen(cmd, shell=True)  # nosec B603 - reviewed
    subprocess.Popen(cmd, shell=True)  # nosec B602 - reviewed by pickle team
    subprocess.Popen(cmd, shell=True)  # nosec: trusted input
    subprocess.Popen(cmd, shell=True)  # noqa: S602 # nosec B602
    subprocess.Popen(cmd, shell=True)  # NOSEC
    subprocess.Popen(cmd, shell=True)  #nosec:B602
    subprocess.Popen(cmd, shell=True)  # nosec B602 # second comment
    subprocess.Popen(cmd, shell=True)  # not a nosec: see ticket
    pickle.loads(data)  # nosec pickle
    pickle.loads(data)  # nosec: B301
    pickle.loads(data)  # nosec B403
    marshal.loads(data)  # nosec B302
    eval(data)  # nosec eval
    eval(data)  # nosec exec_used
    exec(data)  # nosec exec_used
    assert data  # nosec assert_used
    assert data  # nosec B101
    assert data, "# nosec"
    s = "# nosec"; assert s
    token = "hunter2"  # nosec hardcoded_password_string
    token = "hunter2"  # nosec B106
    try:
        pass
    except Exception:  # nosec B110
        pass
    try:
        pass
    except Exception:
        pass  # nosec
    return ET, etree, minidom, xml.sax, ftplib, telnetlib, xmlrpc.client, token
