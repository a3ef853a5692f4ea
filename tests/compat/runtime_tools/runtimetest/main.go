// Gantry's stand-in for runtime-tools' cmd/runtimetest, which Debian 12 does not ship: run as the
// container's process by the validation programs, it compares what it sees (ids, cwd, env,
// capabilities, rlimits, mounts, devices, masked/readonly paths, sysctls, id maps, rootfs
// propagation) with /config.json and prints one TAP line per check.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/mndrix/tap-go"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
)

var rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

type mountinfo struct {
	id, parent       int
	root, mountpoint string
	opts, optional   string
	fstype, source   string
	superOpts        string
}

func getMounts() ([]mountinfo, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountinfo
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		var m mountinfo
		m.id, _ = strconv.Atoi(fields[0])
		m.parent, _ = strconv.Atoi(fields[1])
		m.root = fields[3]
		m.mountpoint = fields[4]
		m.opts = fields[5]
		i := 6
		var opt []string
		for ; fields[i] != "-"; i++ {
			opt = append(opt, fields[i])
		}
		m.optional = strings.Join(opt, " ")
		m.fstype = fields[i+1]
		m.source = fields[i+2]
		if len(fields) > i+3 {
			m.superOpts = fields[i+3]
		}
		out = append(out, m)
	}
	return out, nil
}

func testWriteAccess(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		f, err := os.CreateTemp(path, "Test")
		if err != nil {
			return err
		}
		f.Close()
		os.Remove(f.Name())
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	f.Close()
	return nil
}

func main() {
	path := flag.String("path", "/", "bundle path")
	flag.Parse()
	t := tap.New()
	t.Header(0)
	defer t.AutoPlan()
	data, err := os.ReadFile(filepath.Join(*path, "config.json"))
	if err != nil {
		t.Fail("read config.json: " + err.Error())
		return
	}
	var spec rspec.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fail("parse config.json: " + err.Error())
		return
	}
	check := func(desc string, err error) {
		t.Ok(err == nil, desc)
		if err != nil {
			t.Diagnostic(err.Error())
		}
	}
	p := spec.Process
	check("root filesystem", func() error {
		if spec.Root.Readonly && testWriteAccess("/") == nil {
			return fmt.Errorf("rootfs should be readonly")
		}
		return nil
	}())
	check("hostname", func() error {
		h, _ := os.Hostname()
		if spec.Hostname != "" && h != spec.Hostname {
			return fmt.Errorf("hostname expected %q, actual %q", spec.Hostname, h)
		}
		return nil
	}())
	check("process", func() error {
		if p.Cwd != "" {
			cwd, err := os.Getwd()
			// A seccomp profile may deny getcwd (linux_seccomp does): nothing to compare then.
			if err == nil && cwd != p.Cwd {
				return fmt.Errorf("cwd expected %v, actual %v", p.Cwd, cwd)
			}
		}
		for _, env := range p.Env {
			kv := strings.SplitN(env, "=", 2)
			if os.Getenv(kv[0]) != kv[1] {
				return fmt.Errorf("env %v expected %q, actual %q", kv[0], kv[1], os.Getenv(kv[0]))
			}
		}
		if uint32(os.Getuid()) != p.User.UID || uint32(os.Getgid()) != p.User.GID {
			return fmt.Errorf("uid/gid expected %d/%d, actual %d/%d", p.User.UID, p.User.GID, os.Getuid(), os.Getgid())
		}
		groups, _ := os.Getgroups()
		gm := map[int]bool{}
		for _, g := range groups {
			gm[g] = true
		}
		for _, g := range p.User.AdditionalGids {
			if !gm[int(g)] {
				return fmt.Errorf("groups expected %v, actual %v", p.User.AdditionalGids, groups)
			}
		}
		cmdline, _ := os.ReadFile("/proc/self/cmdline")
		args := bytes.Split(bytes.Trim(cmdline, "\x00"), []byte{0})
		if len(args) != len(p.Args) {
			return fmt.Errorf("args expected %v, actual %q", p.Args, args)
		}
		for i := range args {
			if string(args[i]) != p.Args[i] {
				return fmt.Errorf("args expected %v, actual %q", p.Args, args)
			}
		}
		nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
		if err != nil {
			return err
		}
		if p.NoNewPrivileges != (nnp == 1) {
			return fmt.Errorf("noNewPrivileges expected %v, actual %v", p.NoNewPrivileges, nnp == 1)
		}
		if p.User.Umask != nil {
			old := syscall.Umask(0)
			syscall.Umask(old)
			if uint32(old) != *p.User.Umask {
				return fmt.Errorf("umask expected %o, actual %o", *p.User.Umask, old)
			}
		}
		return nil
	}())
	check("capabilities", func() error {
		caps, err := capability.NewPid2(0)
		if err != nil {
			return err
		}
		if err := caps.Load(); err != nil {
			return err
		}
		last := capability.CAP_LAST_CAP
		sets := map[capability.CapType][]string{}
		if p.Capabilities != nil {
			sets[capability.BOUNDING] = p.Capabilities.Bounding
			sets[capability.EFFECTIVE] = p.Capabilities.Effective
			sets[capability.INHERITABLE] = p.Capabilities.Inheritable
			sets[capability.PERMITTED] = p.Capabilities.Permitted
			sets[capability.AMBIENT] = p.Capabilities.Ambient
		}
		for _, which := range []capability.CapType{capability.BOUNDING, capability.EFFECTIVE, capability.INHERITABLE, capability.PERMITTED, capability.AMBIENT} {
			want := map[string]bool{}
			for _, c := range sets[which] {
				want[c] = true
			}
			for _, c := range capability.List() {
				if c > last {
					continue
				}
				key := "CAP_" + strings.ToUpper(c.String())
				if want[key] != caps.Get(which, c) {
					return fmt.Errorf("%v capability %s: expected %v, actual %v", which, key, want[key], caps.Get(which, c))
				}
			}
		}
		return nil
	}())
	check("rlimits", func() error {
		for _, r := range p.Rlimits {
			rl, ok := rlimits[r.Type]
			if !ok {
				return fmt.Errorf("unknown rlimit %s", r.Type)
			}
			var lim unix.Rlimit
			if err := unix.Getrlimit(rl, &lim); err != nil {
				return err
			}
			if rl == unix.RLIMIT_NOFILE {
				// Go 1.19 raises its own soft NOFILE limit to the hard one before main (and
				// its children inherit that): only the hard limit can be checked from here.
				lim.Cur = r.Soft
			}
			if lim.Cur != r.Soft || lim.Max != r.Hard {
				return fmt.Errorf("%s expected %d/%d, actual %d/%d", r.Type, r.Soft, r.Hard, lim.Cur, lim.Max)
			}
		}
		return nil
	}())
	check("oomScoreAdj", func() error {
		if p.OOMScoreAdj == nil {
			return nil
		}
		b, err := os.ReadFile("/proc/self/oom_score_adj")
		if err != nil {
			return err
		}
		v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if v != *p.OOMScoreAdj {
			return fmt.Errorf("oom_score_adj expected %d, actual %d", *p.OOMScoreAdj, v)
		}
		return nil
	}())
	mounts, err := getMounts()
	check("read mountinfo", err)
	check("mounts", func() error {
		for _, sm := range spec.Mounts {
			isBind := sm.Type == "bind" || sm.Type == "rbind"
			for _, o := range sm.Options {
				isBind = isBind || o == "bind" || o == "rbind"
			}
			if isBind {
				continue
			}
			found := false
			for _, m := range mounts {
				if m.mountpoint == filepath.Clean(sm.Destination) && m.fstype == sm.Type && m.source == filepath.Clean(sm.Source) {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("mount %v not found", sm)
			}
		}
		return nil
	}())
	if spec.Linux == nil {
		return
	}
	l := spec.Linux
	check("sysctls", func() error {
		for k, v := range l.Sysctl {
			b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/")))
			if err != nil {
				return err
			}
			if strings.TrimSpace(string(b)) != v {
				return fmt.Errorf("sysctl %s expected %q, actual %q", k, v, strings.TrimSpace(string(b)))
			}
		}
		return nil
	}())
	check("default symlinks", func() error {
		for link, dest := range map[string]string{"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"} {
			got, err := os.Readlink(link)
			if err != nil {
				return err
			}
			if got != dest {
				return fmt.Errorf("%s -> %s, want %s", link, got, dest)
			}
		}
		return nil
	}())
	check("default devices", func() error {
		devs := []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}
		if p.Terminal {
			devs = append(devs, "/dev/console")
		}
		for _, d := range devs {
			fi, err := os.Stat(d)
			if err != nil {
				return err
			}
			if fi.Mode()&os.ModeDevice == 0 {
				return fmt.Errorf("%s is not a device", d)
			}
		}
		return nil
	}())
	check("linux devices", func() error {
		for _, d := range l.Devices {
			fi, err := os.Stat(d.Path)
			if err != nil {
				return err
			}
			st := fi.Sys().(*syscall.Stat_t)
			var typ string
			switch st.Mode & syscall.S_IFMT {
			case syscall.S_IFCHR:
				typ = "c"
			case syscall.S_IFBLK:
				typ = "b"
			case syscall.S_IFIFO:
				typ = "p"
			}
			if typ != d.Type && !(d.Type == "u" && typ == "c") {
				return fmt.Errorf("%s type %s, want %s", d.Path, typ, d.Type)
			}
			if typ != "p" && (int64(unix.Major(st.Rdev)) != d.Major || int64(unix.Minor(st.Rdev)) != d.Minor) {
				return fmt.Errorf("%s is %d:%d, want %d:%d", d.Path, unix.Major(st.Rdev), unix.Minor(st.Rdev), d.Major, d.Minor)
			}
			if d.FileMode != nil && fi.Mode().Perm() != d.FileMode.Perm() {
				return fmt.Errorf("%s mode %v, want %v", d.Path, fi.Mode().Perm(), d.FileMode.Perm())
			}
			if d.UID != nil && *d.UID != st.Uid {
				return fmt.Errorf("%s uid %d, want %d", d.Path, st.Uid, *d.UID)
			}
			if d.GID != nil && *d.GID != st.Gid {
				return fmt.Errorf("%s gid %d, want %d", d.Path, st.Gid, *d.GID)
			}
		}
		return nil
	}())
	check("maskedPaths", func() error {
		for _, mp := range l.MaskedPaths {
			f, err := os.Open(mp)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return err
			}
			fi, _ := f.Stat()
			if fi.IsDir() {
				names, _ := f.Readdirnames(-1)
				f.Close()
				if len(names) != 0 {
					return fmt.Errorf("%s is readable: %v", mp, names)
				}
				continue
			}
			b := make([]byte, 1)
			_, err = f.Read(b)
			f.Close()
			if err != io.EOF {
				return fmt.Errorf("%s should not be readable", mp)
			}
		}
		return nil
	}())
	check("readonlyPaths", func() error {
		for _, rp := range l.ReadonlyPaths {
			if _, err := os.Stat(rp); os.IsNotExist(err) {
				continue
			}
			// A read-only mount does not stop writes to a device or a fifo: for those the
			// mount's own flags say it (and opening a fifo for writing would block).
			ro := false
			for _, m := range mounts {
				if m.mountpoint == filepath.Clean(rp) {
					ro = strings.HasPrefix(m.opts, "ro,") || m.opts == "ro"
				}
			}
			if fi, err := os.Stat(rp); err == nil && (fi.IsDir() || fi.Mode().IsRegular()) {
				ro = testWriteAccess(rp) != nil
			}
			if !ro {
				return fmt.Errorf("%s should be readonly", rp)
			}
		}
		return nil
	}())
	check("uidMappings/gidMappings", func() error {
		for _, m := range []struct {
			maps []rspec.LinuxIDMapping
			file string
		}{{l.UIDMappings, "/proc/self/uid_map"}, {l.GIDMappings, "/proc/self/gid_map"}} {
			if len(m.maps) == 0 {
				continue
			}
			b, err := os.ReadFile(m.file)
			if err != nil {
				return err
			}
			for _, want := range m.maps {
				line := fmt.Sprintf("%d %d %d", want.ContainerID, want.HostID, want.Size)
				found := false
				for _, got := range strings.Split(string(b), "\n") {
					if strings.Join(strings.Fields(got), " ") == line {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("%s lacks %q: %s", m.file, line, b)
				}
			}
		}
		return nil
	}())
	check("rootfsPropagation", func() error {
		if l.RootfsPropagation == "" {
			return nil
		}
		for _, m := range mounts {
			if m.mountpoint != "/" {
				continue
			}
			switch l.RootfsPropagation {
			case "shared", "rshared":
				if !strings.Contains(m.optional, "shared:") {
					return fmt.Errorf("/ is not shared: %q", m.optional)
				}
			case "slave", "rslave":
				if !strings.Contains(m.optional, "master:") {
					return fmt.Errorf("/ is not slave: %q", m.optional)
				}
			case "private", "rprivate":
				if strings.Contains(m.optional, "shared:") || strings.Contains(m.optional, "master:") {
					return fmt.Errorf("/ is not private: %q", m.optional)
				}
			case "unbindable", "runbindable":
				if !strings.Contains(m.optional, "unbindable") {
					return fmt.Errorf("/ is not unbindable: %q", m.optional)
				}
			}
		}
		return nil
	}())
}
