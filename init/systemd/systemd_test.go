package systemd

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

// exposureLimit is the highest `systemd-analyze security` score a profile
// may reach; profiles without a limit are only reported.
var exposureLimit = map[string]float64{
	initsys.ProfileDefault: 2.0,
	initsys.ProfileStrict:  1.5,
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// analyzable renders v for systemd with Exec pointing at a real executable,
// because `systemd-analyze verify` refuses a unit whose binary is missing,
// and writes the unit into a temp dir under its own name.
func analyzable(t *testing.T, v inittest.Variant) (unit string, body []byte) {
	t.Helper()
	bin := inittest.WriteTemp(t, filepath.Base(v.Svc.Exec), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	s := v.Svc
	s.Exec = bin
	f := inittest.Render(t, Init{}, s)[0]
	unit = filepath.Join(t.TempDir(), s.Name+".service")
	if err := os.WriteFile(unit, f.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	return unit, f.Body
}

func TestSystemdVerify(t *testing.T) {
	inittest.Need(t, "systemd-analyze", "apt-get install systemd")
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			unit, body := analyzable(t, v)
			out, err := inittest.Run("systemd-analyze", "verify", "--man=no", unit)
			// verify reports problems on stderr but does not always fail.
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, out, inittest.Numbered(body))
			}
		})
	}
}

func TestSystemdSecurity(t *testing.T) {
	inittest.Need(t, "systemd-analyze", "apt-get install systemd")
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			unit, body := analyzable(t, v)
			out, _ := inittest.Run("systemd-analyze", "security", "--offline=true", "--no-pager", unit)
			m := exposureRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no exposure level in systemd-analyze output:\n%s", out)
			}
			score, _ := strconv.ParseFloat(m[1], 64)
			t.Logf("exposure %s: %.1f", v.Name, score)
			if limit, ok := exposureLimit[v.Svc.Profile]; ok && score > limit {
				t.Errorf("exposure %.1f > %.1f for profile %s\n%s\n%s", score, limit, v.Svc.Profile, out, inittest.Numbered(body))
			}
		})
	}
}

func TestSystemdUnit(t *testing.T) {
	s := inittest.Crashwatch()
	body := inittest.Render(t, Init{}, s)[0].Body
	for _, want := range []string{
		"Description=Crash report watcher (100%% local)",
		"Wants=network-online.target",
		"After=network-online.target",
		"Type=exec",
		`ExecStart=/usr/bin/crashwatch --config "/etc/crashwatch/crash watch.toml" "--label=it's \"quoted\"" $$HOME "back\\slash" %%h \; "#not-a-comment" ""`,
		"ExecReload=/bin/kill -s HUP $MAINPID",
		"User=crashwatch",
		"Group=crashwatch",
		"Environment=EMPTY=",
		`Environment="GREETING=hello \"world\" $USER 50%% it's"`,
		"Environment=LOG_LEVEL=info",
		"WorkingDirectory=/var/lib/crashwatch",
		"StateDirectory=crashwatch",
		"ConfigurationDirectory=crashwatch",
		"Restart=on-failure",
		"RestartSec=5",
		"TimeoutStopSec=20",
		"CapabilityBoundingSet=CAP_SYSLOG",
		"AmbientCapabilities=CAP_SYSLOG",
		"SystemCallFilter=syslog",
		"BindReadOnlyPaths=-/dev/kmsg",
		"WantedBy=multi-user.target",
	} {
		if !inittest.HasLine(body, want) {
			t.Errorf("unit lacks %q\n%s", want, inittest.Numbered(body))
		}
	}
	if strings.Contains(string(body), "ProtectKernelLogs=") {
		t.Errorf("CAP_SYSLOG granted but the kernel log is hidden\n%s", body)
	}
	// A declared capability systemd's bounding set lacks is left out
	// quietly (the real-host tier runs crashwatch so); only a required one
	// fails the start.
	if strings.Contains(string(body), "AssertCapability=") {
		t.Errorf("a capability that is not required fails the start\n%s", body)
	}
	required := s
	required.Capabilities = []string{"CAP_SYSLOG", "CAP_NET_RAW"}
	required.RequiredCapabilities = []string{"CAP_SYSLOG"}
	body = inittest.Render(t, Init{}, required)[0].Body
	if !inittest.HasLine(body, "AssertCapability=CAP_SYSLOG") || strings.Count(string(body), "AssertCapability=") != 1 {
		t.Errorf("unit does not assert exactly the required CAP_SYSLOG\n%s", inittest.Numbered(body))
	}

	root := inittest.Crashwatch()
	root.User, root.Group, root.Capabilities, root.Restart = "root", "", nil, initsys.RestartNever
	body = inittest.Render(t, Init{}, root)[0].Body
	for _, want := range []string{"CapabilityBoundingSet=", "Restart=no", "ProtectKernelLogs=yes"} {
		if !inittest.HasLine(body, want) {
			t.Errorf("root unit lacks %q\n%s", want, body)
		}
	}
	for _, bad := range []string{"User=", "AmbientCapabilities="} {
		if strings.Contains(string(body), bad) {
			t.Errorf("root unit has %q\n%s", bad, body)
		}
	}
}

// TestSystemdCapabilityNeeds checks that every capability the sandbox makes
// room for still yields a valid unit. Exposure is not held to a limit here:
// a service that asks for CAP_SYS_TIME and CAP_NET_ADMIN is exposed.
func TestSystemdCapabilityNeeds(t *testing.T) {
	inittest.Need(t, "systemd-analyze", "apt-get install systemd")
	s := inittest.Crashwatch()
	s.Capabilities = nil
	for c := range capNeeds {
		s.Capabilities = append(s.Capabilities, c)
	}
	for _, p := range initsys.Profiles {
		s.Profile = p
		unit, body := analyzable(t, inittest.Variant{Name: "caps-" + p, Svc: s})
		if out, err := inittest.Run("systemd-analyze", "verify", "--man=no", unit); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("%s: systemd-analyze verify: %v\n%s\n%s", p, err, out, inittest.Numbered(body))
		}
		if p == initsys.ProfileDefault {
			for _, want := range []string{"ProtectHome=read-only", "SystemCallFilter=@clock @module @raw-io @resources @setuid chroot ptrace syslog", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET"} {
				if !inittest.HasLine(body, want) {
					t.Errorf("unit lacks %q\n%s", want, inittest.Numbered(body))
				}
			}
			for _, gone := range []string{"ProtectClock=", "ProtectKernelModules=", "ProtectKernelLogs=", "PrivateDevices=", "RestrictRealtime="} {
				if strings.Contains(string(body), gone) {
					t.Errorf("unit still has %s\n%s", gone, inittest.Numbered(body))
				}
			}
		}
	}
}

// TestSystemdDirs: directories systemd can create as declared map to its
// directives; the others are left to the package's scripts and made
// writable.
func TestSystemdDirs(t *testing.T) {
	s := inittest.Crashwatch()
	s.Dirs = inittest.Dirs(s)
	body := inittest.Render(t, Init{}, s)[0].Body
	for _, want := range []string{
		"StateDirectory=crashwatch",
		"StateDirectoryMode=0750",
		"StateDirectory=crashwatch/textfile",
		"CacheDirectory=crashwatch",
		"CacheDirectoryMode=0700",
		"RuntimeDirectory=crashwatch",
		"RuntimeDirectoryMode=0755",
		"ReadWritePaths=-/srv/crashwatch/spool",
	} {
		if !inittest.HasLine(body, want) {
			t.Errorf("unit lacks %q\n%s", want, inittest.Numbered(body))
		}
	}
	// A second state directory with another mode than the state
	// directory's cannot share StateDirectoryMode=.
	s.Dirs = []initsys.Dir{{Path: "/var/lib/crashwatch/open", Owner: s.User, Group: s.Group, Mode: 0o755}}
	body = inittest.Render(t, Init{}, s)[0].Body
	if inittest.HasLine(body, "StateDirectory=crashwatch/open") || !inittest.HasLine(body, "ReadWritePaths=-/var/lib/crashwatch/open") {
		t.Errorf("a state directory of mode 0755 was mapped to StateDirectory=\n%s", inittest.Numbered(body))
	}
}

// TestSystemdLimits: each limit is its systemd setting (TestSystemdVerify
// has systemd-analyze parse them), and a service without limits sets none.
func TestSystemdLimits(t *testing.T) {
	body := inittest.Render(t, Init{}, inittest.LimitsService(initsys.ProfileDefault))[0].Body
	for _, want := range []string{"LimitNOFILE=4321", "MemoryMax=268435456", "CPUWeight=50", "Nice=-5"} {
		if !inittest.HasLine(body, want) {
			t.Errorf("unit lacks %q\n%s", want, inittest.Numbered(body))
		}
	}
	body = inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body
	for _, setting := range []string{"LimitNOFILE=", "MemoryMax=", "CPUWeight=", "Nice="} {
		if strings.Contains(string(body), setting) {
			t.Errorf("a service without limits sets %s\n%s", setting, body)
		}
	}
}
