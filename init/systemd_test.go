package initsys

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exposureLimit is the highest `systemd-analyze security` score a profile
// may reach; profiles without a limit are only reported.
var exposureLimit = map[string]float64{
	ProfileDefault: 2.0,
	ProfileStrict:  1.5,
}

var exposureRE = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// analyzable renders v for systemd with Exec pointing at a real executable,
// because `systemd-analyze verify` refuses a unit whose binary is missing,
// and writes the unit into a temp dir under its own name.
func analyzable(t *testing.T, v variant) (unit string, body []byte) {
	t.Helper()
	bin := writeTemp(t, filepath.Base(v.svc.Exec), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	s := v.svc
	s.Exec = bin
	f := render(t, "systemd", s)[0]
	unit = filepath.Join(t.TempDir(), s.Name+".service")
	if err := os.WriteFile(unit, f.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	return unit, f.Body
}

func TestSystemdVerify(t *testing.T) {
	need(t, "systemd-analyze", "apt-get install systemd")
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			unit, body := analyzable(t, v)
			out, err := run("systemd-analyze", "verify", "--man=no", unit)
			// verify reports problems on stderr but does not always fail.
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, out, numbered(body))
			}
		})
	}
}

func TestSystemdSecurity(t *testing.T) {
	need(t, "systemd-analyze", "apt-get install systemd")
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			unit, body := analyzable(t, v)
			out, _ := run("systemd-analyze", "security", "--offline=true", "--no-pager", unit)
			m := exposureRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no exposure level in systemd-analyze output:\n%s", out)
			}
			score, _ := strconv.ParseFloat(m[1], 64)
			t.Logf("exposure %s: %.1f", v.name, score)
			if limit, ok := exposureLimit[v.svc.Profile]; ok && score > limit {
				t.Errorf("exposure %.1f > %.1f for profile %s\n%s\n%s", score, limit, v.svc.Profile, out, numbered(body))
			}
		})
	}
}

func TestSystemdUnit(t *testing.T) {
	s := crashwatch()
	body := render(t, "systemd", s)[0].Body
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
		if !hasLine(body, want) {
			t.Errorf("unit lacks %q\n%s", want, numbered(body))
		}
	}
	if strings.Contains(string(body), "ProtectKernelLogs=") {
		t.Errorf("CAP_SYSLOG granted but the kernel log is hidden\n%s", body)
	}

	root := crashwatch()
	root.User, root.Group, root.Capabilities, root.Restart = "root", "", nil, RestartNever
	body = render(t, "systemd", root)[0].Body
	for _, want := range []string{"CapabilityBoundingSet=", "Restart=no", "ProtectKernelLogs=yes"} {
		if !hasLine(body, want) {
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
	need(t, "systemd-analyze", "apt-get install systemd")
	s := crashwatch()
	s.Capabilities = nil
	for c := range capNeeds {
		s.Capabilities = append(s.Capabilities, c)
	}
	for _, p := range Profiles {
		s.Profile = p
		unit, body := analyzable(t, variant{"caps-" + p, s})
		if out, err := run("systemd-analyze", "verify", "--man=no", unit); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("%s: systemd-analyze verify: %v\n%s\n%s", p, err, out, numbered(body))
		}
		if p == ProfileDefault {
			for _, want := range []string{"ProtectHome=read-only", "SystemCallFilter=@clock @module @raw-io @resources @setuid chroot ptrace syslog", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET"} {
				if !hasLine(body, want) {
					t.Errorf("unit lacks %q\n%s", want, numbered(body))
				}
			}
			for _, gone := range []string{"ProtectClock=", "ProtectKernelModules=", "ProtectKernelLogs=", "PrivateDevices=", "RestrictRealtime="} {
				if strings.Contains(string(body), gone) {
					t.Errorf("unit still has %s\n%s", gone, numbered(body))
				}
			}
		}
	}
}
