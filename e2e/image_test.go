package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/kubernetes"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// TestImageRuns: podman runs the amd64 image of the example's release from
// its OCI layout, with runc (crun fails on this machine's hybrid cgroups)
// and no network. The agent runs as [oci]'s default uid and gid, reads the
// config mounted over the image's, reports a segfault line appended to its
// log-file source, and stops cleanly on podman stop's SIGTERM. The same
// image is read from the release's .oci.tar, the file release.json lists.
// The README's image-run commands run too, as they stand but for the
// container's name and the host path of the config.
func TestImageRuns(t *testing.T) {
	host.RequireRoot(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman not found in PATH; install it (.ci/prereqs) to run this test")
	}
	// podman names an image from an oci: path, which must be lower case.
	work, err := os.MkdirTemp("", "omnipack-e2e-image-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	rel, err := buildExampleRelease(work, v1, "", nil, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	archive := ""
	for _, a := range rel.m.Artifacts {
		if a.Format == manifest.FormatOCI {
			archive = filepath.Join(rel.dir, a.Name)
		}
	}
	if filepath.Base(archive) != pipeline.ImageArchiveName(agent, v1) {
		t.Fatalf("release.json lists the image as %q, want %s", archive, pipeline.ImageArchiveName(agent, v1))
	}
	assertManifestsPinImage(t, rel)
	conf := filepath.Join(work, "crashwatch.toml")
	kernLog := filepath.Join(work, "kern.log")
	writeFile(t, conf, []byte("auth_key = \"image-test\"\nsource = \"/srv/kern.log\"\n"))
	writeFile(t, kernLog, nil)

	readme := readmeShBlocks(t, "image-run")
	if len(readme) != 1 {
		t.Fatalf("the README's image-run section has %d sh blocks, want 1", len(readme))
	}
	readmeDir := filepath.Join(work, "readme")
	if err := os.MkdirAll(readmeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel.dir, filepath.Join(readmeDir, "dist")); err != nil {
		t.Fatal(err)
	}
	// sh runs a part of the README's block, with the test's container and
	// config, in a directory where dist is the release.
	sh := func(script, name string) (string, error) {
		for old, new := range map[string]string{
			"--name " + agent: "--name " + name, "podman logs " + agent: "podman logs " + name, "podman stop " + agent: "podman stop " + name,
			"-v /etc/" + agent + "/" + agent + ".toml:": "-v " + conf + ":",
			agent + "_1.0.0.oci.tar:1.0.0":              filepath.Base(archive) + ":" + v1,
		} {
			script = strings.ReplaceAll(script, old, new)
		}
		cmd := exec.Command("sh", "-ec", script)
		cmd.Dir = readmeDir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	runPart, stopPart, ok := strings.Cut(readme[0], "podman logs ")
	if !ok {
		t.Fatal("the README's image-run block has no podman logs line")
	}
	stopPart = "podman logs " + stopPart

	for _, ref := range []string{"oci:" + unpackImage(t, rel, work) + ":" + v1, "oci-archive:" + archive + ":" + v1, "readme"} {
		t.Run(strings.SplitN(ref, ":", 2)[0], func(t *testing.T) {
			name := fmt.Sprintf("omnipack-e2e-%d", time.Now().UnixNano())
			podman := func(args ...string) (string, error) {
				out, err := exec.Command("podman", append([]string{"--runtime", "runc"}, args...)...).CombinedOutput()
				return string(out), err
			}
			var out string
			var err error
			if ref == "readme" {
				out, err = sh(runPart, name)
				if err == nil && !strings.Contains(out, `"Architecture": "amd64"`) {
					t.Errorf("the README's skopeo inspect does not show the amd64 image:\n%s", out)
				}
			} else {
				out, err = podman("run", "-d", "--name", name, "--network=none",
					"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
					"-v", conf+":/etc/"+agent+"/"+agent+".toml:ro", "-v", kernLog+":/srv/kern.log:ro", ref)
			}
			image, _ := podman("inspect", name, "--format", "{{.Image}}")
			t.Cleanup(func() {
				podman("rm", "-f", "-t", "0", name)
				if id := strings.TrimSpace(image); id != "" {
					podman("rmi", "-f", id)
				}
			})
			if err != nil {
				t.Fatalf("podman run %s: %v\n%s", ref, err, out)
			}
			logs := func() string {
				out, _ := podman("logs", name)
				return out
			}
			waitLog := func(what string) {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for !strings.Contains(logs(), what) {
					if time.Now().After(deadline) {
						t.Fatalf("the agent never logged %s:\n%s", what, logs())
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			waitLog(`"auth_key_set":true`)
			if !strings.Contains(logs(), `"source":"/srv/kern.log"`) {
				t.Errorf("the agent did not read the mounted config:\n%s", logs())
			}
			top, err := podman("top", name, "user", "group")
			if want := fmt.Sprint(config.DefaultImageID); err != nil || !strings.Contains(top, want+" ") || strings.Contains(top, "root") {
				t.Errorf("podman top: %v, want the agent as %s:%s:\n%s", err, want, want, top)
			}
			if ref == "readme" {
				// The README mounts no log file; the agent keeps retrying its
				// source, and its logs and podman stop are the README's.
				if out, err := sh(stopPart, name); err != nil || !strings.Contains(out, `"auth_key_set":true`) {
					t.Fatalf("the README's podman logs and stop: %v\n%s", err, out)
				}
			} else {
				waitLog(`"msg":"reading source","source":"/srv/kern.log"`)
				f, err := os.OpenFile(kernLog, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(f, "[ 4242.000001] python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4 in libc.so.6[167ad8,7fa681844000+156000]")
				f.Close()
				waitLog(`"kind":"segfault","pid":21951`)
				if out, err := podman("stop", "-t", "20", name); err != nil {
					t.Fatalf("podman stop: %v\n%s", err, out)
				}
			}
			code, err := podman("inspect", name, "--format", "{{.State.ExitCode}}")
			if err != nil || strings.TrimSpace(code) != "0" || !strings.Contains(logs(), `"msg":"stopping","signal":"terminated"`) {
				t.Errorf("the agent did not stop cleanly on SIGTERM: exit %q (%v):\n%s", code, err, logs())
			}
		})
	}
}

// unpackImage unpacks the release's .oci.tar into a layout directory
// below dir and returns it.
func unpackImage(t *testing.T, rel *release, dir string) string {
	t.Helper()
	layoutDir, err := os.MkdirTemp(dir, "layout-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xf", filepath.Join(rel.dir, pipeline.ImageArchiveName(agent, v1)), "-C", layoutDir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xf: %v\n%s", err, out)
	}
	return layoutDir
}

// assertManifestsPinImage: release.json names the image the layout holds
// (image_repository, image_index), the release lists its Kubernetes
// manifests and podman units, the manifests decode strictly, and all of
// them run the image the build just made, by its index digest (the
// layout's index.json), under [oci] repository.
func assertManifestsPinImage(t *testing.T, rel *release) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(unpackImage(t, rel, t.TempDir()), "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var top struct{ Manifests []struct{ Digest string } }
	if err := json.Unmarshal(data, &top); err != nil || len(top.Manifests) != 1 {
		t.Fatalf("index.json: %v\n%s", err, data)
	}
	want := agent + "@" + top.Manifests[0].Digest
	listed := map[string]string{}
	for _, a := range rel.m.Artifacts {
		listed[a.Name] = a.Format
		if a.Format == manifest.FormatOCI && a.ImageRepository+"@"+a.ImageIndex != want {
			t.Errorf("release.json names the image %s@%s, the layout holds %s", a.ImageRepository, a.ImageIndex, want)
		}
	}
	for name, format := range map[string]string{
		agent + "-daemonset.yaml": manifest.FormatKubernetes, agent + "-daemonset-privileged.yaml": manifest.FormatKubernetes,
		agent + "-sidecar.yaml": manifest.FormatKubernetes, agent + ".container": manifest.FormatQuadlet, agent + "-podman.service": manifest.FormatPodmanUnit,
	} {
		if listed[name] != format {
			t.Errorf("release.json lists %s as %q, want %q", name, listed[name], format)
		}
		body, err := os.ReadFile(filepath.Join(rel.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if format == manifest.FormatKubernetes {
			if _, err := kubernetes.Decode(body); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("%s does not run %s:\n%s", name, want, body)
		}
	}
}

// TestImageSigned: in a signed release, the .oci.tar carries the image's
// signature and its SPDX SBOM attestations in the form cosign save
// writes, and the README's commands (tar, cosign verify --local-image,
// cosign verify-attestation --local-image) accept them offline with the
// release key; each attestation's statement is about the index and
// lists the binary. An image index changed after signing, another key,
// and a layer changed in the layout are refused: the first two by cosign,
// the last by skopeo, which checks every blob's digest (cosign checks the
// index's digest only).
func TestImageSigned(t *testing.T) {
	cosign := cosignBinary(t)
	work := t.TempDir()
	keys, err := makeKeys(filepath.Join(work, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := buildExampleRelease(work, v1, "", nil, pipeline.Options{Keys: keys, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := unpackImage(t, rel, work)
	pub := filepath.Join(rel.dir, "keys", "release.pub")

	// The README's commands, in a directory where dist is the release.
	blocks := readmeShBlocks(t, "image-verify")
	if len(blocks) != 1 {
		t.Fatalf("the README's image-verify section has %d sh blocks, want 1", len(blocks))
	}
	readme := t.TempDir()
	if err := os.Symlink(rel.dir, filepath.Join(readme, "dist")); err != nil {
		t.Fatal(err)
	}
	script := strings.ReplaceAll(blocks[0], "crashwatch_1.0.0.oci.tar", pipeline.ImageArchiveName(agent, v1))
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = readme
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(cosign)+":"+os.Getenv("PATH"))
	readmeOut, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's image-verify commands: %v\n%s", err, readmeOut)
	}
	if !strings.Contains(string(readmeOut), `"docker-reference":"`+agent+`"`) {
		t.Errorf("cosign verified a signature of another image:\n%s", readmeOut)
	}
	checkSBOMAttestations(t, readmeOut, agent)

	verify := func(dir, key string) (string, error) {
		out, err := exec.Command(cosign, "verify", "--key", key, "--local-image", dir, "--insecure-ignore-tlog=true").CombinedOutput()
		return string(out), err
	}
	verifyAttestation := func(dir, key string) (string, error) {
		out, err := exec.Command(cosign, "verify-attestation", "--key", key, "--local-image", dir, "--type", "spdxjson", "--insecure-ignore-tlog=true").CombinedOutput()
		return string(out), err
	}
	if _, err := makeKeys(filepath.Join(work, "other")); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(layoutDir, filepath.Join(work, "other", "release.pub")); err == nil {
		t.Errorf("cosign verify accepts another key:\n%s", out)
	}
	if out, err := verifyAttestation(layoutDir, filepath.Join(work, "other", "release.pub")); err == nil {
		t.Errorf("cosign verify-attestation accepts another key:\n%s", out)
	}

	// The image index, changed: its digest is no longer the signed one.
	changed := filepath.Join(t.TempDir(), "oci")
	if err := verifytest.CopyTree(layoutDir, changed); err != nil {
		t.Fatal(err)
	}
	var top struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	data, _ := os.ReadFile(filepath.Join(changed, "index.json"))
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	indexBlob := filepath.Join(changed, "blobs", "sha256", strings.TrimPrefix(top.Manifests[0].Digest, "sha256:"))
	idx, _ := os.ReadFile(indexBlob)
	writeFile(t, indexBlob, bytes.Replace(idx, []byte(`"os":"linux"`), []byte(`"os":"linuz"`), 1))
	if out, err := verify(changed, pub); err == nil {
		t.Errorf("cosign verify accepts a changed image index:\n%s", out)
	}
	if out, err := verifyAttestation(changed, pub); err == nil {
		t.Errorf("cosign verify-attestation accepts a changed image index:\n%s", out)
	}

	// A layer, changed in place: skopeo copy refuses the layout.
	layers, _ := filepath.Glob(filepath.Join(layoutDir, "blobs", "sha256", "*"))
	var layer string
	for _, b := range layers {
		if fi, err := os.Stat(b); err == nil && fi.Size() > 100000 {
			layer = b
		}
	}
	if layer == "" {
		t.Fatal("no layer blob in the layout")
	}
	flip := filepath.Join(t.TempDir(), "oci")
	if err := verifytest.CopyTree(layoutDir, flip); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(flip, "blobs", "sha256", filepath.Base(layer)), flippedBytes(t, layer))
	if out, err := exec.Command("skopeo", "copy", "--all", "oci:"+flip+":"+v1, "oci:"+filepath.Join(t.TempDir(), "copy")+":"+v1).CombinedOutput(); err == nil {
		t.Errorf("skopeo copied a layout with a changed layer:\n%s", out)
	}
}

// flippedBytes is the file at path with one byte in its middle changed.
func flippedBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	return data
}

// checkSBOMAttestations reads what cosign verify-attestation printed, one
// DSSE envelope per line: there must be one per architecture of the image
// (the e2e tier builds amd64), each an in-toto statement of an SPDX
// document that lists the binary.
func checkSBOMAttestations(t *testing.T, out []byte, name string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     []byte `json:"payload"`
		}
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &env) != nil || env.PayloadType != "application/vnd.in-toto+json" {
			continue
		}
		var st struct {
			PredicateType string `json:"predicateType"`
			Predicate     struct {
				SPDXVersion string `json:"spdxVersion"`
				Files       []struct {
					FileName string `json:"fileName"`
				} `json:"files"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(env.Payload, &st); err != nil {
			t.Fatalf("an attestation's statement: %v", err)
		}
		n++
		if st.PredicateType != "https://spdx.dev/Document" || st.Predicate.SPDXVersion != "SPDX-2.3" {
			t.Errorf("attestation of %s, %s; want an SPDX-2.3 document", st.PredicateType, st.Predicate.SPDXVersion)
		}
		listed := false
		for _, f := range st.Predicate.Files {
			listed = listed || f.FileName == "./usr/bin/"+name
		}
		if !listed {
			t.Errorf("the SBOM attestation lists no /usr/bin/%s", name)
		}
	}
	if n == 0 {
		t.Errorf("cosign verify-attestation printed no attestation:\n%s", out)
	}
}

// TestPublishOCI runs the README's image-push commands (omnipack publish
// --oci, cosign verify and verify-attestation against the registry) with
// a registry on 127.0.0.1 over https (go-containerregistry's, in this
// process; its certificate trusted through SSL_CERT_FILE) in place of
// ghcr.io: skopeo reads both architectures there, and cosign finds the
// signature and the SBOM attestation beside the image and accepts them
// with the release key, and not with another.
func TestPublishOCI(t *testing.T) {
	cosign := cosignBinary(t)
	work := t.TempDir()
	keyDir := filepath.Join(work, "keys")
	keys, err := makeKeys(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := buildExampleRelease(work, v1, "", nil, pipeline.Options{Keys: keys, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(work, "registry-ca.pem")
	writeFile(t, caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	repoRef := strings.TrimPrefix(srv.URL, "https://") + "/vendor/" + agent
	env := append(os.Environ(), "SSL_CERT_FILE="+caFile, "PATH="+filepath.Dir(omnipackCLI(t))+":"+filepath.Dir(cosign)+":"+os.Getenv("PATH"))

	blocks := readmeShBlocks(t, "image-push")
	if len(blocks) != 1 {
		t.Fatalf("the README's image-push section has %d sh blocks, want 1", len(blocks))
	}
	publishLine, verifyLines, ok := strings.Cut(strings.ReplaceAll(blocks[0], "ghcr.io/vendor/"+agent, repoRef), "\n")
	if !ok || !strings.HasPrefix(publishLine, "omnipack publish --oci") {
		t.Fatalf("the README's image-push block does not start with omnipack publish --oci:\n%s", blocks[0])
	}
	readme := t.TempDir()
	for link, target := range map[string]string{"dist": rel.dir, "keys": keyDir} {
		if err := os.Symlink(target, filepath.Join(readme, link)); err != nil {
			t.Fatal(err)
		}
	}
	sh := func(script string) ([]byte, error) {
		cmd := exec.Command("sh", "-ec", script)
		cmd.Dir, cmd.Env = readme, env
		return cmd.CombinedOutput()
	}
	out, err := sh(publishLine)
	t.Logf("omnipack publish --oci:\n%s", out)
	if err != nil {
		t.Fatalf("omnipack publish --oci: %v", err)
	}
	m := regexp.MustCompile(`@(sha256:[0-9a-f]{64}) `).FindSubmatch(out)
	if m == nil {
		t.Fatalf("publish --oci printed no digest")
	}
	digest := string(m[1])
	var archs []string // the release's, which the e2e tier builds for amd64 alone
	for _, a := range rel.m.Artifacts {
		if a.Format == "deb" {
			archs = append(archs, a.Arch)
		}
	}
	if len(archs) == 0 {
		t.Fatal("the release has no deb to tell its architectures by")
	}
	for _, arch := range archs {
		out, err := exec.Command("skopeo", "--override-os", "linux", "--override-arch", arch, "inspect", "--tls-verify=false", "docker://"+repoRef+":"+v1).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"Architecture": "`+arch+`"`) || !strings.Contains(string(out), digest) {
			t.Errorf("skopeo inspect %s in the registry: %v\n%s", arch, err, out)
		}
	}
	out, err = sh(strings.ReplaceAll(verifyLines, "sha256:…", digest))
	if err != nil {
		t.Fatalf("the README's cosign verify and verify-attestation against the registry: %v\n%s", err, out)
	}
	checkSBOMAttestations(t, out, agent)
	if _, err := makeKeys(filepath.Join(work, "other")); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"verify", "verify-attestation --type spdxjson"} {
		cmd := exec.Command(cosign, append(strings.Fields(verb), "--key", filepath.Join(work, "other", "release.pub"),
			"--insecure-ignore-tlog=true", repoRef+"@"+digest)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("cosign %s accepts another key against the registry:\n%s", verb, out)
		}
	}
	// An unverified release is not pushed.
	flip := filepath.Join(t.TempDir(), "dist")
	if err := verifytest.CopyTree(rel.dir, flip); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(flip, pipeline.ImageArchiveName(agent, v1))
	writeFile(t, archive, flippedBytes(t, archive))
	tampered := exec.Command(omnipackCLI(t), "publish", "--oci", repoRef+"-tampered", "--dist", flip, "--keys", keyDir)
	tampered.Env = env
	if out, err := tampered.CombinedOutput(); err == nil {
		t.Errorf("publish --oci pushed a release whose image was changed:\n%s", out)
	}
}
