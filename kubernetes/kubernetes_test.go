package kubernetes

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func example() Workload {
	return Workload{Name: "crashwatch", Version: "1.0.0",
		Image: "ghcr.io/vendor/crashwatch@sha256:" + strings.Repeat("ab", 32), UID: 65532, GID: 65532,
		Capabilities: []string{"CAP_SYSLOG"}, ConfigDir: "/etc/crashwatch",
		Config:    map[string][]byte{"crashwatch.toml": []byte("auth_key = \"\"\n"), "conf.d/extra.toml": []byte("x = 1\n")},
		StateDirs: []string{"/var/lib/crashwatch"}, HostPaths: []string{"/dev/kmsg"},
		HealthCommand: []string{"/usr/bin/crashwatch", "-check-config"}}
}

// TestManifestsDecodeStrictly: every document of every file decodes into
// its API type with unknown fields refused, and the files are the three
// promised.
func TestManifestsDecodeStrictly(t *testing.T) {
	files, err := Render(example())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		objs, err := Decode(f.Body)
		if err != nil {
			t.Errorf("%s: %v\n%s", f.Name, err, f.Body)
		}
		if len(objs) != 2 {
			t.Errorf("%s holds %d documents, want the Secret and one workload", f.Name, len(objs))
		}
		if bytes.Contains(f.Body, []byte("status:")) || bytes.Contains(f.Body, []byte("creationTimestamp")) {
			t.Errorf("%s carries what only a cluster sets:\n%s", f.Name, f.Body)
		}
	}
	if want := []string{"crashwatch-daemonset.yaml", "crashwatch-daemonset-privileged.yaml", "crashwatch-sidecar.yaml"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	if _, err := Decode([]byte("apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  replicas: 3\n")); err == nil {
		t.Error("Decode accepted a field DaemonSet does not have")
	}
}

// TestLeastPrivilege holds each workload's security context: never
// privileged (but the named variant), the declared capabilities only, a
// read-only root, non-root, seccomp RuntimeDefault; the image pinned by
// digest; one pod per node on every node; the config a Secret the agent's
// group can read.
func TestLeastPrivilege(t *testing.T) {
	w := example()
	files, err := Render(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		objs, err := Decode(f.Body)
		if err != nil {
			t.Fatal(err)
		}
		secret := objs[0].(*corev1.Secret)
		if secret.StringData["crashwatch.toml"] != "auth_key = \"\"\n" || secret.StringData["conf.d_extra.toml"] != "x = 1\n" {
			t.Errorf("%s: the Secret holds %v", f.Name, secret.StringData)
		}
		var pod corev1.PodSpec
		var c corev1.Container
		privileged := strings.Contains(f.Name, "privileged")
		switch o := objs[1].(type) {
		case *appsv1.DaemonSet:
			pod = o.Spec.Template.Spec
			c = pod.Containers[0]
			if len(pod.Tolerations) != 1 || pod.Tolerations[0].Operator != corev1.TolerationOpExists {
				t.Errorf("%s: tolerations %+v, want every taint tolerated", f.Name, pod.Tolerations)
			}
			sel := o.Spec.Selector.MatchLabels
			for k, v := range sel {
				if o.Spec.Template.Labels[k] != v {
					t.Errorf("%s: the selector %v does not select the template's labels %v", f.Name, sel, o.Spec.Template.Labels)
				}
			}
			if sel["app.kubernetes.io/instance"] != o.Name {
				t.Errorf("%s: the selector %v would also select the other variant's pods", f.Name, sel)
			}
		case *corev1.Pod:
			pod = o.Spec
			if len(pod.InitContainers) != 1 || pod.InitContainers[0].RestartPolicy == nil || *pod.InitContainers[0].RestartPolicy != corev1.ContainerRestartPolicyAlways {
				t.Fatalf("%s: no native sidecar (an init container with restartPolicy Always)", f.Name)
			}
			c = pod.InitContainers[0]
		}
		if c.Image != w.Image {
			t.Errorf("%s: image %s, want %s", f.Name, c.Image, w.Image)
		}
		sc := c.SecurityContext
		if sc == nil || sc.Privileged == nil || *sc.Privileged != privileged {
			t.Fatalf("%s: privileged %v, want %v", f.Name, sc, privileged)
		}
		if *sc.RunAsNonRoot != true || *sc.RunAsUser != w.UID || *sc.RunAsGroup != w.GID || *sc.ReadOnlyRootFilesystem != true ||
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: security context %+v", f.Name, sc)
		}
		if !privileged {
			if *sc.AllowPrivilegeEscalation || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
				!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"SYSLOG"}) {
				t.Errorf("%s: capabilities %+v, escalation %v; want ALL dropped and SYSLOG alone added", f.Name, sc.Capabilities, *sc.AllowPrivilegeEscalation)
			}
		}
		if pod.HostPID || pod.HostNetwork || pod.SecurityContext.FSGroup == nil || *pod.SecurityContext.FSGroup != w.GID {
			t.Errorf("%s: pod %+v", f.Name, pod.SecurityContext)
		}
		mounts := map[string]corev1.VolumeMount{}
		for _, m := range c.VolumeMounts {
			mounts[m.MountPath] = m
		}
		if !mounts["/etc/crashwatch"].ReadOnly || !mounts["/dev/kmsg"].ReadOnly || mounts["/var/lib/crashwatch"].Name == "" || mounts["/var/lib/crashwatch"].ReadOnly {
			t.Errorf("%s: mounts %+v", f.Name, c.VolumeMounts)
		}
		if c.LivenessProbe == nil || !slices.Equal(c.LivenessProbe.Exec.Command, w.HealthCommand) {
			t.Errorf("%s: liveness probe %+v, want the health command", f.Name, c.LivenessProbe)
		}
	}
	w.HostPaths = nil
	files, _ = Render(w)
	if len(files) != 2 {
		t.Errorf("without a host device: %d files, want no privileged variant", len(files))
	}
	w.Image = "ghcr.io/vendor/crashwatch:1.0.0"
	if _, err := Render(w); err == nil {
		t.Error("Render took an image not pinned by digest")
	}
}
