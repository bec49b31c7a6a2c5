package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

const (
	defaultConfigPath = "/etc/crashwatch/crashwatch.toml"
	defaultSource     = "/dev/kmsg"
	defaultOutput     = "stdout"
	defaultRetry      = 5 * time.Second
)

// Config is the parsed and validated configuration.
type Config struct {
	AuthKey       string
	NodeID        string
	Source        string
	Output        string
	RetryInterval time.Duration
	FromStart     bool
}

// fileConfig mirrors the TOML file. retry_interval is read as a string and
// parsed here, because the toml package would read a bare integer as
// nanoseconds, which is never what an admin means.
type fileConfig struct {
	AuthKey       string `toml:"auth_key"`
	NodeID        string `toml:"node_id"`
	Source        string `toml:"source"`
	Output        string `toml:"output"`
	RetryInterval string `toml:"retry_interval"`
	FromStart     bool   `toml:"from_start"`
}

// loadConfig reads and validates the config file at path. Errors name the
// file and, where there is one, the key, but never a value: the toml package
// quotes at most one character of the text it rejects.
func loadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	c, err := parseConfig(string(data))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func parseConfig(data string) (Config, error) {
	var fc fileConfig
	md, err := toml.Decode(data, &fc)
	if err != nil {
		return Config{}, err
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = fmt.Sprintf("%q", k.String())
		}
		return Config{}, fmt.Errorf("unknown key %s", strings.Join(names, ", "))
	}
	// The key must be present so that a forgotten key is a visible mistake,
	// but it may be empty: packages install this file before the admin sets
	// a key, and the service must still start (it logs a warning instead).
	if !md.IsDefined("auth_key") {
		return Config{}, errors.New(`missing required key "auth_key" (set auth_key = "" to run without one)`)
	}

	c := Config{
		AuthKey:       fc.AuthKey,
		NodeID:        fc.NodeID,
		Source:        fc.Source,
		Output:        fc.Output,
		RetryInterval: defaultRetry,
		FromStart:     fc.FromStart,
	}
	if c.NodeID == "" {
		c.NodeID, err = os.Hostname()
		if err != nil || c.NodeID == "" {
			c.NodeID = "unknown"
		}
	}
	if c.Source == "" {
		c.Source = defaultSource
	}
	if !filepath.IsAbs(c.Source) {
		return Config{}, fmt.Errorf("key \"source\": %q is not an absolute path", c.Source)
	}
	if c.Output == "" {
		c.Output = defaultOutput
	}
	if c.Output != "stdout" && !filepath.IsAbs(c.Output) {
		return Config{}, fmt.Errorf("key \"output\": %q is neither \"stdout\" nor an absolute path", c.Output)
	}
	if fc.RetryInterval != "" {
		d, err := time.ParseDuration(fc.RetryInterval)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("key \"retry_interval\": %q is not a positive duration such as \"5s\"", fc.RetryInterval)
		}
		c.RetryInterval = d
	}
	return c, nil
}
