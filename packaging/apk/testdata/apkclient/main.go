// Command apkclient is the apk client of omnipack's apk repository tests:
// go-apk, an independent Go implementation of apk-tools (which Debian does
// not package), installing packages from repositories into a root
// directory the way apk add --root does. It is a module of its own so that
// omnipack never depends on go-apk.
//
//	apkclient -root DIR -arch x86_64 -key URL_OR_PATH -repo URL -world NAME[,NAME]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/chainguard-dev/go-apk/pkg/apk"
	apkfs "github.com/chainguard-dev/go-apk/pkg/fs"
)

func main() {
	root := flag.String("root", "", "root directory to install into")
	arch := flag.String("arch", "x86_64", "apk architecture")
	keys := flag.String("key", "", "public keys, comma-separated paths or URLs, installed into ROOT/etc/apk/keys")
	repos := flag.String("repo", "", "repositories, comma-separated, as in /etc/apk/repositories")
	world := flag.String("world", "", "packages to install, comma-separated")
	flag.Parse()
	if *root == "" || *keys == "" || *repos == "" || *world == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*root, *arch, strings.Split(*keys, ","), strings.Split(*repos, ","), strings.Split(*world, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "apkclient:", err)
		os.Exit(1)
	}
}

func run(root, arch string, keys, repos, world []string) error {
	ctx := context.Background()
	a, err := apk.New(apk.WithFS(apkfs.DirFS(root, apkfs.WithCreateDir())), apk.WithArch(arch), apk.WithIgnoreMknodErrors(true))
	if err != nil {
		return err
	}
	if err := a.InitDB(ctx); err != nil {
		return fmt.Errorf("init db: %w", err)
	}
	if err := a.InitKeyring(ctx, keys, nil); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := a.SetRepositories(ctx, repos); err != nil {
		return fmt.Errorf("repositories: %w", err)
	}
	if err := a.SetWorld(ctx, world); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	epoch := time.Unix(0, 0)
	if err := a.FixateWorld(ctx, &epoch); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	return nil
}
