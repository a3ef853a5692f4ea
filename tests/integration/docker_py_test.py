#!/usr/bin/python3
# docker-py (Debian's python3-docker) against the daemon at $DOCKER_HOST; prints "PASS name" / "FAIL name: why" lines.
# Run by tests/integration/docker_py.sh: argv[1] is the busybox docker-archive, argv[2] the name prefix.
import os
import sys
import time
import traceback

import docker
import docker.errors

TAR = sys.argv[1]
PREFIX = sys.argv[2] if len(sys.argv) > 2 else "py"
client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=60)
results = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def scenario(fn):
    name = "%s_%s" % (PREFIX, fn.__name__)
    try:
        fn()
    except Exception as e:  # one line per failure, the traceback on stderr
        traceback.print_exc(file=sys.stderr)
        msg = "%s: %s" % (type(e).__name__, e)
        print("FAIL %s: %s" % (name, msg.replace("\n", " ")[:400]), flush=True)
        results.append(False)
    else:
        print("PASS %s" % name, flush=True)
        results.append(True)
    # The next scenario starts without this one's containers, even after a failure.
    for c in client.containers.list(all=True):
        try:
            c.remove(force=True)
        except docker.errors.APIError:
            pass
    return fn


def wait_for(pred, secs=10.0):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


@scenario
def version():
    check(client.ping(), "ping")
    v = client.version()
    check(v.get("ApiVersion"), "ApiVersion in %r" % v)
    eq(v.get("Os"), "linux", "Os")
    auto = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="auto")
    check(auto.api.api_version, "negotiated version")
    eq(auto.version()["ApiVersion"], v["ApiVersion"], "negotiated client sees the same server")
    auto.close()


@scenario
def images_load():
    with open(TAR, "rb") as f:
        imgs = client.images.load(f.read())
    eq(len(imgs), 1, "one image loaded")
    check("busybox:latest" in imgs[0].tags, "tags %r" % imgs[0].tags)
    img = client.images.get("busybox")
    eq(img.attrs["Config"]["Cmd"], ["sh"], "Config.Cmd")
    eq(img.id, imgs[0].id, "same id by name")
    check(any("busybox:latest" in i.tags for i in client.images.list()), "images.list has busybox")
    check(client.images.get(img.short_id).id == img.id, "get by short id")


@scenario
def run_output():
    out = client.containers.run("busybox", "echo hello", remove=True, network_mode="none")
    eq(out, b"hello\n", "run output bytes")
    out = client.containers.run("busybox", ["sh", "-c", "echo $FOO; pwd"], environment={"FOO": "bar"},
                                working_dir="/tmp", remove=True)
    eq(out, b"bar\n/tmp\n", "environment and working_dir")
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], stdout=False, stderr=True,
                                remove=True)
    eq(out, b"err\n", "stderr only")
    eq(client.containers.list(all=True), [], "remove=True left nothing")


@scenario
def run_error():
    try:
        client.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 3"], remove=True)
    except docker.errors.ContainerError as e:
        eq(e.exit_status, 3, "ContainerError.exit_status")
        check(b"oops" in (e.stderr or b""), "stderr in the error: %r" % e.stderr)
    else:
        raise AssertionError("no ContainerError for exit 3")


@scenario
def detached_lifecycle():
    c = client.containers.run("busybox", ["sh", "-c", "echo a; echo b; exec sleep 60"], detach=True,
                              name="pyweb")
    c.reload()
    eq(c.status, "running", "status after run(detach=True)")
    eq(c.name, "pyweb", "name")
    check(wait_for(lambda: c.logs() == b"a\nb\n"), "logs %r" % c.logs())
    eq(c.logs(tail=1), b"b\n", "logs tail=1")
    running = [x.id for x in client.containers.list()]
    check(c.id in running, "list() has the running container")
    t0 = time.time()
    c.stop(timeout=1)
    check(time.time() - t0 < 5, "stop(timeout=1) took %.1fs" % (time.time() - t0))
    c.reload()
    eq(c.status, "exited", "status after stop")
    eq(c.attrs["State"]["ExitCode"], 137, "ExitCode after stop of a TERM-ignoring pid 1")
    check(c.id not in [x.id for x in client.containers.list()], "list() hides the stopped one")
    check(c.id in [x.id for x in client.containers.list(all=True)], "list(all=True) shows it")
    c.remove()
    check(c.id not in [x.id for x in client.containers.list(all=True)], "gone after remove")


@scenario
def create_start_wait():
    c = client.containers.create("busybox", ["sh", "-c", "exit 7"], name="pywait")
    eq(client.api.inspect_container(c.id)["State"]["Status"], "created", "created")
    c.start()
    eq(c.wait(timeout=30)["StatusCode"], 7, "wait() StatusCode")
    c.remove()


@scenario
def inspect_container():
    c = client.containers.run("busybox", "sleep 60", detach=True, name="pyinspect")
    d = client.api.inspect_container(c.id)
    eq(d["Id"], c.id, "Id")
    eq(d["Name"], "/pyinspect", "Name")
    eq(d["Config"]["Image"], "busybox", "Config.Image")
    eq(d["Config"]["Cmd"], ["sleep", "60"], "Config.Cmd")
    eq(d["State"]["Running"], True, "State.Running")
    check(d["State"]["Pid"] > 0, "State.Pid")
    eq(client.api.inspect_container("pyinspect")["Id"], c.id, "by name")
    eq(client.api.inspect_container(c.id[:12])["Id"], c.id, "by short id")
    c.kill()
    eq(c.wait()["StatusCode"], 137, "kill() then wait()")
    c.remove()


@scenario
def errors_404():
    try:
        client.api.inspect_container("nosuch")
    except docker.errors.APIError as e:
        eq(e.status_code, 404, "status of a missing container")
        check("No such container: nosuch" in str(e.explanation), "explanation %r" % e.explanation)
    else:
        raise AssertionError("no APIError for a missing container")
    try:
        client.containers.get("nosuch")
    except docker.errors.NotFound:
        pass
    else:
        raise AssertionError("no NotFound from containers.get")
    try:
        client.images.get("nosuchimage")
    except docker.errors.ImageNotFound as e:
        eq(e.status_code, 404, "status of a missing image")
    else:
        raise AssertionError("no ImageNotFound")


@scenario
def errors_409():
    c = client.containers.run("busybox", "sleep 60", detach=True, name="pyconflict")
    try:
        client.containers.create("busybox", "true", name="pyconflict")
    except docker.errors.APIError as e:
        eq(e.status_code, 409, "name conflict status")
    else:
        raise AssertionError("no APIError for a taken name")
    try:
        c.remove()
    except docker.errors.APIError as e:
        eq(e.status_code, 409, "remove of a running container")
    else:
        raise AssertionError("removed a running container without force")
    c.remove(force=True)


@scenario
def events_decode():
    since = int(time.time())
    c = client.containers.run("busybox", "sh -c 'exit 4'", detach=True, name="pyevents")
    c.wait()
    c.remove()
    time.sleep(1)
    got = []
    for ev in client.events(since=since, until=int(time.time()), decode=True,
                            filters={"container": "pyevents"}):
        got.append((ev["Type"], ev["Action"], ev["Actor"]["Attributes"].get("exitCode")))
        eq(ev["Actor"]["Attributes"].get("name"), "pyevents", "Attributes.name")
        eq(ev["scope"], "local", "scope")
        check(ev["timeNano"] // 10**9 == ev["time"], "time and timeNano agree")
    got = [g for g in got if g[1] not in ("attach", "resize")]
    eq(got, [("container", "create", None), ("container", "start", None),
             ("container", "die", "4"), ("container", "destroy", None)], "events in order")


@scenario
def stats_one():
    c = client.containers.run("busybox", "sleep 60", detach=True, mem_limit="32m")
    time.sleep(0.5)
    st = c.stats(stream=False)
    eq(st["memory_stats"]["limit"], 32 * 1024 * 1024, "memory_stats.limit")
    check(st["memory_stats"]["usage"] > 0, "memory usage")
    check(st["cpu_stats"]["system_cpu_usage"] > 0, "system_cpu_usage")
    check(st["precpu_stats"]["cpu_usage"]["total_usage"] > 0, "precpu_stats (two samples)")
    eq(st["pids_stats"]["current"], 1, "pids_stats.current")
    eq(st["name"], "/" + c.name, "name")
    eq(st["id"], c.id, "id")
    top = c.top()
    check(any("sleep 60" in p[-1] for p in top["Processes"]), "top lists sleep: %r" % top)
    it = c.stats(stream=True, decode=True)
    a, b = next(it), next(it)
    check(b["read"] > a["read"], "streamed samples advance")
    eq(b["preread"], a["read"], "preread is the previous read")
    it.close()
    c2 = client.containers.run("busybox", "sh -c 'head -c 100000 /dev/zero > /big'", detach=True)
    c2.wait()
    df = client.df()
    eq([i["Containers"] for i in df["Images"]], [2], "df: the image is used twice")
    sizes = {x["Id"]: x.get("SizeRw", 0) for x in df["Containers"]}
    check(sizes.get(c2.id, 0) >= 100000, "SizeRw of the writer: %r" % sizes)
    c.remove(force=True)
    c2.remove()


@scenario
def diff_commit_prune():
    c = client.containers.run("busybox", "sh -c 'echo new > /tmp/new; rm /bin/ls'", detach=True)
    c.wait()
    eq(sorted((d["Kind"], d["Path"]) for d in c.diff()),
       [(0, "/bin"), (0, "/tmp"), (1, "/tmp/new"), (2, "/bin/ls")], "diff")
    img = c.commit(repository="pycommit", tag="v1", message="from py",
                   changes=['CMD ["cat", "/tmp/new"]'], conf={"Env": ["FROM_PY=1"]})
    eq(client.containers.run("pycommit:v1", remove=True), b"new\n", "the committed CMD and file")
    env = img.attrs["Config"]["Env"]
    check("FROM_PY=1" in env and any(e.startswith("PATH=") for e in env), "conf merged: %r" % env)
    eq(img.attrs["Comment"], "from py", "comment")
    rep = client.containers.prune()
    eq(rep["ContainersDeleted"], [c.id], "containers prune")
    dangling = c2 = None
    c2 = client.containers.create("busybox", "true")
    dangling = c2.commit()
    c2.remove()
    rep = client.images.prune()
    check({"Deleted": dangling.id} in rep["ImagesDeleted"], "images prune: %r" % rep)
    client.images.remove("pycommit:v1")


@scenario
def networks():
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.233.0.0/24")])
    net = client.networks.create("pynet", driver="bridge", labels={"t": "py"}, ipam=ipam)
    net2 = None
    try:
        eq(net.attrs["IPAM"]["Config"][0]["Subnet"], "10.233.0.0/24", "subnet")
        check([n.name for n in client.networks.list(filters={"label": "t=py"})] == ["pynet"],
              "list by label")
        c = client.containers.run("busybox", "sleep 30", detach=True, network="pynet")
        c.reload()
        ip = c.attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"]
        check(ip.startswith("10.233.0."), "address %r" % ip)
        net.reload()
        check(c.id in net.attrs["Containers"], "network Containers: %r" % net.attrs["Containers"])
        if PREFIX.startswith("gantryd"):
            out = client.containers.run("busybox", ["nslookup", c.name], network="pynet",
                                        remove=True)
            check(("Address: %s" % ip).encode() in out, "the resolver: %r" % out)
        net2 = client.networks.create("pynet2")
        net2.connect(c, aliases=["two"])
        c.reload()
        check("pynet2" in c.attrs["NetworkSettings"]["Networks"], "connect")
        net2.disconnect(c)
        c.reload()
        check("pynet2" not in c.attrs["NetworkSettings"]["Networks"], "disconnect")
        c.remove(force=True)
    finally:
        net.remove()
        if net2 is not None:
            net2.remove()
    check(all(n.name not in ("pynet", "pynet2") for n in client.networks.list()), "removed")


client.close()
print("%d passed, %d failed" % (results.count(True), results.count(False)), file=sys.stderr)
sys.exit(0 if all(results) else 1)
