package signing

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// unsetEnv removes name for the test and restores it afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}

func withTTY(t *testing.T, path string) {
	t.Helper()
	old := ttyPath
	ttyPath = path
	t.Cleanup(func() { ttyPath = old })
}

func TestPasswordFromEnvironment(t *testing.T) {
	withTTY(t, filepath.Join(t.TempDir(), "no-tty"))
	t.Setenv(PasswordEnv, "s3cret pass")
	for _, confirm := range []bool{false, true} {
		pw, err := Password("", confirm)
		if err != nil || string(pw) != "s3cret pass" {
			t.Fatalf("Password(confirm=%v) = %q, %v", confirm, pw, err)
		}
	}
	t.Setenv("CUSTOM_PW", "other")
	if pw, err := Password("CUSTOM_PW", false); err != nil || string(pw) != "other" {
		t.Fatalf("Password(CUSTOM_PW) = %q, %v", pw, err)
	}

	t.Setenv(PasswordEnv, "")
	_, err := Password("", false)
	if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), PasswordEnv+" is set but empty") {
		t.Fatalf("empty %s: %v", PasswordEnv, err)
	}
}

func TestPasswordWithoutEnvironmentOrTerminal(t *testing.T) {
	unsetEnv(t, PasswordEnv)
	for _, tty := range []string{filepath.Join(t.TempDir(), "no-tty"), os.DevNull} {
		withTTY(t, tty)
		_, err := Password("", true)
		if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), "set OMNIPACK_KEY_PASSWORD or run on a terminal") {
			t.Fatalf("tty %s: %v", tty, err)
		}
	}
	unsetEnv(t, "CUSTOM_PW")
	if _, err := Password("CUSTOM_PW", false); err == nil || !strings.Contains(err.Error(), "set CUSTOM_PW or run on a terminal") {
		t.Fatalf("custom variable: %v", err)
	}
}

// openPTY opens a pseudo-terminal pair and returns the master and the path
// of the slave, which Password opens as its terminal.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// typist plays the user at the master side of a pty: it waits for each
// prompt and for echo to be off, then types the answer. It returns
// everything the terminal showed.
func typist(t *testing.T, m *os.File, answers ...string) <-chan string {
	t.Helper()
	shown := make(chan string, 1)
	go func() {
		var screen, all bytes.Buffer
		buf := make([]byte, 256)
		for i, answer := range answers {
			want := "Key password: "
			if i > 0 {
				want = "Repeat the key password: "
			}
			for !strings.Contains(screen.String(), want) {
				n, err := m.Read(buf)
				screen.Write(buf[:n])
				all.Write(buf[:n])
				if err != nil {
					shown <- all.String()
					return
				}
			}
			// Wait until Password has turned echo off; the master sees the
			// slave's settings.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				tio, err := unix.IoctlGetTermios(int(m.Fd()), unix.TCGETS)
				if err == nil && tio.Lflag&unix.ECHO == 0 {
					break
				}
			}
			m.WriteString(answer + "\n")
			screen.Reset()
		}
		// Collect the newline Password prints after the last answer.
		if m.SetReadDeadline(time.Now().Add(200*time.Millisecond)) == nil {
			n, _ := m.Read(buf)
			all.Write(buf[:n])
		}
		shown <- all.String()
	}()
	return shown
}

func TestPasswordPromptsOnTerminal(t *testing.T) {
	unsetEnv(t, PasswordEnv)

	m, slave := openPTY(t)
	withTTY(t, slave)
	shown := typist(t, m, "tty secret", "tty secret")
	pw, err := Password("", true)
	if err != nil || string(pw) != "tty secret" {
		t.Fatalf("Password on a terminal = %q, %v", pw, err)
	}
	s := <-shown
	t.Logf("terminal showed %q", s)
	if !strings.Contains(s, "Repeat the key password: ") {
		t.Fatalf("terminal showed %q, want both prompts", s)
	}
	if strings.Contains(s, "tty secret") {
		t.Fatalf("the password was echoed: %q", s)
	}

	m, slave = openPTY(t)
	withTTY(t, slave)
	typist(t, m, "one", "two")
	if _, err := Password("", true); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("mismatched confirmation: %v", err)
	}

	m, slave = openPTY(t)
	withTTY(t, slave)
	typist(t, m, "")
	if _, err := Password("", false); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("empty password on a terminal: %v", err)
	}
}
