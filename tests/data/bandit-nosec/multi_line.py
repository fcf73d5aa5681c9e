"""nosec on the lines of multi-line statements, decorators and strings.

This file is test data for tests/test_bandit_nosec.py: it is never imported or run.
"""

import subprocess  # nosec B404


def decorate(value):
    return lambda f: f


def first(cmd):
    subprocess.Popen(  # nosec B602
        cmd,
        shell=True,
    )
    subprocess.Popen(  # nosec
        cmd,
        shell=True,
    )


def middle(cmd):
    subprocess.Popen(
        cmd,  # nosec B602
        shell=True,
    )
    subprocess.Popen(
        cmd,
        shell=True,  # nosec B602
    )
    subprocess.Popen(
        cmd,
        shell=True,  # nosec: subprocess_popen_with_shell_equals_true
    )


def last(cmd):
    subprocess.Popen(
        cmd,
        shell=True,
    )  # nosec B602
    subprocess.Popen(
        cmd,
        shell=True,
    )  # nosec


def after(cmd):
    subprocess.Popen(
        cmd,
        shell=True,
    )
    # nosec B602


def other_then_own(cmd):
    subprocess.Popen(  # nosec B101
        cmd,
        shell=True,  # nosec B602
    )
    subprocess.Popen(  # nosec B101
        cmd,  # nosec B602
        shell=True,
    )
    subprocess.Popen(  # nosec B101
        cmd,
        shell=True,  # nosec
    )
    subprocess.Popen(  # nosec
        cmd,
        shell=True,  # nosec B101
    )


def statement_first_line(cmd):
    result = str(  # nosec B602
        subprocess.Popen(
            cmd,
            shell=True,
        )
    )
    return result


def in_strings(cmd):
    subprocess.Popen(
        """
        # nosec
        """,
        shell=True,
    )
    subprocess.Popen(
        cmd + "# nosec B602",
        shell=True,
    )
    subprocess.Popen(cmd, shell=True, env={"X": """
    # nosec
    """})
    subprocess.Popen(f"""{cmd}
    # nosec
    """, shell=True)


@decorate(eval("1"))  # nosec B307
def decorated_call(cmd):
    return cmd


@decorate(None)  # nosec B107
def decorated_default(password="hunter2"):
    return password


def default_in_body(password="hunter2"):
    x = 1  # nosec
    return password, x


def default_in_body_named(password="hunter2"):
    x = 1  # nosec B101
    y = 2  # nosec
    return password, x, y


def strings(cmd):
    config = {
        "password": "hunter2",  # nosec B105
    }
    config = {  # nosec B101
        "password": "hunter2",  # nosec B105
    }
    query = (
        "SELECT * FROM t WHERE a = '%s'"  # nosec B608
        % cmd
    )
    query2 = (  # nosec B101
        "SELECT * FROM t WHERE a = '%s'"  # nosec B608
        % cmd
    )
    sql = """
        SELECT * FROM t WHERE a = '%s'
        """ % cmd  # nosec B608
    return config, query, query2, sql


def long_call(cmd):
    return subprocess.check_output(
        cmd,
        shell=True,
        env={
            "A": "1",  # nosec B602
        },
    )


def continuation(cmd):
    return subprocess.check_output(cmd, \
        shell=True)  # nosec B602


def from_import():
    from pickle import (  # nosec B403
        loads,
    )
    from marshal import (
        loads as mloads,  # nosec B403
    )
    from marshal import (
        dumps,
    )  # nosec import_marshal
    return loads, mloads, dumps


def ssl_call(requests):
    return requests.get(  # nosec B113
        "https://example.invalid",
        verify=False,  # nosec B501
    )
