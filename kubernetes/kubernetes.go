// Package kubernetes renders the agent's Kubernetes manifests from a data
// model (Workload): a DaemonSet that runs one pod per node with the least
// privilege the service needs, a privileged variant where the agent reads
// a host device an unprivileged pod cannot open, and a native-sidecar
// example for pods that are really VMs. The config is a Secret.
package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Workload is what the manifests say of the agent.
type Workload struct {
	Name    string // the program's name: the DaemonSet, container and labels
	Version string
	// Image is the image reference pinned by digest: REPOSITORY@sha256:….
	Image    string
	UID, GID int64
	// Capabilities are [service] capabilities, CAP_ names.
	Capabilities []string
	// ConfigDir is where the agent reads its config from, and Config the
	// files the Secret carries, by path relative to ConfigDir.
	ConfigDir string
	Config    map[string][]byte
	// StateDirs are written by the agent: each gets a volume of its own,
	// since the root file system is read-only.
	StateDirs []string
	// HostPaths are host files or directories the agent reads, mounted
	// read-only at the same path; a /dev path is a device, which only a
	// privileged pod may open on most nodes.
	HostPaths []string
	// HealthCommand, when set, is the liveness probe.
	HealthCommand []string
}

// File is one rendered manifest.
type File struct {
	Name string // e.g. crashwatch-daemonset.yaml
	Body []byte
}

// Render returns the manifests: NAME-daemonset.yaml (the Secret and the
// least-privilege DaemonSet), NAME-daemonset-privileged.yaml where a host
// path is a device, and NAME-sidecar.yaml.
func Render(w Workload) ([]File, error) {
	if w.Name == "" || !strings.Contains(w.Image, "@sha256:") {
		return nil, fmt.Errorf("kubernetes: want a name and an image pinned by digest, have %q and %q", w.Name, w.Image)
	}
	secret := w.secret()
	ds, err := docs(secret, w.daemonSet(false))
	if err != nil {
		return nil, err
	}
	out := []File{{Name: w.Name + "-daemonset.yaml", Body: ds}}
	if slices.ContainsFunc(w.HostPaths, isDevice) {
		priv, err := docs(secret, w.daemonSet(true))
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: w.Name + "-daemonset-privileged.yaml", Body: priv})
	}
	side, err := docs(secret, w.sidecarPod())
	if err != nil {
		return nil, err
	}
	return append(out, File{Name: w.Name + "-sidecar.yaml", Body: side}), nil
}

func isDevice(p string) bool { return strings.HasPrefix(p, "/dev/") }

// docs renders objects as one multi-document YAML file, without the
// status and creation time the API types carry, which only a cluster sets.
func docs(objs ...any) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return nil, err
		}
		delete(m, "status")
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}

func (w Workload) labels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": w.Name, "app.kubernetes.io/version": w.Version}
}

func (w Workload) secretName() string { return w.Name + "-config" }

// secret holds the config files: a config may hold keys, so it is a
// Secret as a whole.
func (w Workload) secret() *corev1.Secret {
	data := map[string]string{}
	for rel, body := range w.Config {
		data[secretKey(rel)] = string(body)
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: w.secretName(), Labels: w.labels()},
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	}
}

// configItems places each Secret key at its file's path.
func (w Workload) configItems() []corev1.KeyToPath {
	var rels []string
	for rel := range w.Config {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	var items []corev1.KeyToPath
	for _, rel := range rels {
		items = append(items, corev1.KeyToPath{Key: secretKey(rel), Path: rel})
	}
	return items
}

// container is the agent's container: least privilege unless privileged.
func (w Workload) container(privileged bool) (corev1.Container, []corev1.Volume) {
	var caps []corev1.Capability
	for _, c := range w.Capabilities {
		caps = append(caps, corev1.Capability(strings.TrimPrefix(c, "CAP_")))
	}
	sc := &corev1.SecurityContext{
		RunAsNonRoot:             ptr(true),
		RunAsUser:                ptr(w.UID),
		RunAsGroup:               ptr(w.GID),
		ReadOnlyRootFilesystem:   ptr(true),
		AllowPrivilegeEscalation: ptr(false),
		Privileged:               ptr(privileged),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: caps},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if privileged {
		// A privileged container has every capability; what it may not
		// drop is moot, and Kubernetes refuses privilege escalation off.
		sc.AllowPrivilegeEscalation, sc.Capabilities = nil, nil
	}
	c := corev1.Container{
		Name:            w.Name,
		Image:           w.Image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		SecurityContext: sc,
		VolumeMounts:    []corev1.VolumeMount{{Name: "config", MountPath: w.ConfigDir, ReadOnly: true}},
	}
	vols := []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: w.secretName(), Items: w.configItems(), DefaultMode: ptr(int32(0o440))}}}}
	for i, d := range w.StateDirs {
		name := fmt.Sprintf("state-%d", i)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: d})
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	for i, p := range w.HostPaths {
		name := fmt.Sprintf("host-%d", i)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: p, ReadOnly: true})
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: p}}})
	}
	if len(w.HealthCommand) > 0 {
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: w.HealthCommand}},
			PeriodSeconds: 30, TimeoutSeconds: 10}
	}
	return c, vols
}

// daemonSet runs one pod per node, on every node (tolerating any taint).
func (w Workload) daemonSet(privileged bool) *appsv1.DaemonSet {
	name := w.Name
	if privileged {
		name += "-privileged"
	}
	c, vols := w.container(privileged)
	// The two variants select their own pods only.
	selector := map[string]string{"app.kubernetes.io/name": w.Name, "app.kubernetes.io/instance": name}
	labels := w.labels()
	maps.Copy(labels, selector)
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers:                   []corev1.Container{c},
					Volumes:                      vols,
					Tolerations:                  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					AutomountServiceAccountToken: ptr(false),
					SecurityContext:              w.podSecurity(),
				},
			},
		},
	}
}

// sidecarPod is the native-sidecar example: the agent as an init container
// that keeps running (restartPolicy: Always) beside the pod's own
// container, for pods that are really VMs (Kata, Firecracker, Fargate).
func (w Workload) sidecarPod() *corev1.Pod {
	c, vols := w.container(false)
	c.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "app-with-" + w.Name, Labels: map[string]string{"app.kubernetes.io/name": "app-with-" + w.Name}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{c},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/your/app:latest",
				SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false)}}},
			Volumes:                      vols,
			AutomountServiceAccountToken: ptr(false),
			SecurityContext:              w.podSecurity(),
		},
	}
}

// podSecurity gives the config Secret's files (0440) and the volumes to
// the agent's group, and keeps seccomp's default profile.
func (w Workload) podSecurity() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{FSGroup: ptr(w.GID),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
}

func ptr[T any](v T) *T { return &v }

// secretKey is the Secret's key for a config file at rel below ConfigDir:
// keys hold no slashes.
func secretKey(rel string) string { return strings.ReplaceAll(rel, "/", "_") }

// Decode reads a rendered file back strictly: each document into the API
// type of its kind (Secret, DaemonSet, Pod), refusing unknown fields.
func Decode(body []byte) ([]any, error) {
	var out []any
	for i, doc := range bytes.Split(body, []byte("\n---\n")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "apps/v1 DaemonSet":
			obj = &appsv1.DaemonSet{}
		case "v1 Pod":
			obj = &corev1.Pod{}
		default:
			return nil, fmt.Errorf("document %d: unexpected %s %s", i+1, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, meta.Kind, err)
		}
		out = append(out, obj)
	}
	return out, nil
}
