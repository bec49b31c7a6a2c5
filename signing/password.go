package signing

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/term"
)

// PasswordEnv is the environment variable that holds the key password.
// There is deliberately no flag: a flag would show in ps and shell history.
const PasswordEnv = "OMNIPACK_KEY_PASSWORD"

// ttyPath is the terminal Password prompts on; tests point it elsewhere.
var ttyPath = "/dev/tty"

// Password returns the key password from the environment variable envVar
// (PasswordEnv when empty), or else asks for it on the controlling
// terminal, without echo. confirm asks twice, for a new password. Reading
// /dev/tty rather than stdin keeps the prompt working when stdin or stdout
// is redirected.
func Password(envVar string, confirm bool) ([]byte, error) {
	if envVar == "" {
		envVar = PasswordEnv
	}
	if pw, ok := os.LookupEnv(envVar); ok {
		if pw == "" {
			return nil, fmt.Errorf("%w: %s is set but empty (fix: put the key password in it)", ErrNoPassword, envVar)
		}
		return []byte(pw), nil
	}
	tty, err := os.OpenFile(ttyPath, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: set %s or run on a terminal", ErrNoPassword, envVar)
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, fmt.Errorf("%w: set %s or run on a terminal", ErrNoPassword, envVar)
	}
	pw, err := prompt(tty, "Key password: ")
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, fmt.Errorf("%w: the password is empty", ErrNoPassword)
	}
	if !confirm {
		return pw, nil
	}
	again, err := prompt(tty, "Repeat the key password: ")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pw, again) {
		return nil, fmt.Errorf("%w: the two passwords differ", ErrNoPassword)
	}
	return pw, nil
}

func prompt(tty *os.File, text string) ([]byte, error) {
	if _, err := tty.WriteString(text); err != nil {
		return nil, fmt.Errorf("password prompt: %w", err)
	}
	pw, err := term.ReadPassword(int(tty.Fd()))
	// ReadPassword swallows the user's newline; give the terminal one back.
	_, _ = tty.WriteString("\n")
	if err != nil {
		return nil, fmt.Errorf("password prompt: %w", err)
	}
	return pw, nil
}
