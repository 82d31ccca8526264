package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Default images of the container path, built without a registry by
// scripts/build-test-images.sh.
const (
	defaultRedisImage     = "limits-go/redis:test"
	defaultMemcachedImage = "limits-go/memcached:test"
	buildImagesScript     = "scripts/build-test-images.sh"
)

// Ports the images listen on inside the container.
const (
	redisContainerPort     = "6379/tcp"
	memcachedContainerPort = "11211/tcp"
)

// containerDataDir is the writable working directory of the images.
const containerDataDir = "/data"

// dockerTimeout bounds a call to the Docker engine that is not a container
// start.
const dockerTimeout = 10 * time.Second

// ryukEnv is testcontainers' switch for its reaper container. The reaper
// image would have to be pulled from a registry, which tests cannot reach;
// containers are terminated in t.Cleanup instead.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// RedisContainer starts a Redis container from the local image (EnvRedisImage,
// default limits-go/redis:test) with its port published on loopback, and
// returns its "127.0.0.1:port" once the server has logged that it accepts
// connections. The container is terminated in t.Cleanup. Without Docker or
// without the image the test is skipped (failed under
// LIMITS_REQUIRE_SERVERS=1); the message names the script that builds the
// image.
func RedisContainer(t testing.TB) string {
	t.Helper()
	return publishedContainer(t, redisImage(t), redisKind, redisContainerPort)
}

// MemcachedContainer starts a memcached container from the local image
// (EnvMemcachedImage, default limits-go/memcached:test) as
// [RedisContainer] does for Redis.
func MemcachedContainer(t testing.TB) string {
	t.Helper()
	return publishedContainer(t, memcachedImage(t), memcachedKind, memcachedContainerPort)
}

// redisImage returns the Redis image to run, skipping the test when Docker
// or the image is missing.
func redisImage(t testing.TB) string {
	t.Helper()
	return requireImage(t, imageName(EnvRedisImage, defaultRedisImage))
}

// memcachedImage is redisImage for memcached.
func memcachedImage(t testing.TB) string {
	t.Helper()
	return requireImage(t, imageName(EnvMemcachedImage, defaultMemcachedImage))
}

func imageName(env, def string) string {
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v
	}
	return def
}

// requireImage skips the test unless Docker answers and has image locally.
// Images are never pulled: there may be no registry to pull from.
func requireImage(t testing.TB, image string) string {
	t.Helper()
	if err := dockerAvailable(); err != nil {
		unavailable(t, "Docker is unavailable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		unavailable(t, "Docker is unavailable: %v", err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		if errdefs.IsNotFound(err) {
			unavailable(t, "Docker image %s not found: build it with %s", image, buildImagesScript)
		}
		t.Fatalf("servers: inspect Docker image %s: %v", image, err)
	}
	return image
}

// docker caches whether the Docker engine answered, once per test binary.
var docker struct {
	once sync.Once
	err  error
}

// dockerAvailable reports why the container path cannot be used, or nil.
func dockerAvailable() error {
	if envTrue(EnvNoDocker) {
		return fmt.Errorf("%s is set", EnvNoDocker)
	}
	docker.once.Do(func() { docker.err = pingDocker() })
	return docker.err
}

func pingDocker() (err error) {
	prepareTestcontainers()
	// Some testcontainers code paths panic when no Docker host is found.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

var prepareOnce sync.Once

// prepareTestcontainers disables the Ryuk reaper unless the environment
// already decides, before testcontainers first reads its configuration.
func prepareTestcontainers() {
	prepareOnce.Do(func() {
		if _, ok := os.LookupEnv(ryukEnv); !ok {
			os.Setenv(ryukEnv, "true")
		}
	})
}

// publishedContainer runs image with port published on 127.0.0.1 and
// returns the host address once the server logged its ready line and
// answers k.ping.
func publishedContainer(t testing.TB, image string, k kind, port string) string {
	t.Helper()
	containerPort := network.MustParsePort(port)
	req := testcontainers.ContainerRequest{
		Image:        image,
		ExposedPorts: []string{port},
		Labels:       map[string]string{"org.limits-go.test": t.Name()},
		WaitingFor:   wait.ForLog(k.readyLog).WithStartupTimeout(readyTimeout),
		HostConfigModifier: func(hc *container.HostConfig) {
			// Loopback only: a test server has no password.
			hc.PortBindings = network.PortMap{containerPort: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}
		},
	}
	ctr, err := runContainer(t, req)
	if err != nil {
		t.Fatalf("servers: %s container from %s: %v", k.name, image, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	mapped, err := ctr.MappedPort(ctx, port)
	if err != nil {
		t.Fatalf("servers: %s container from %s: mapped port %s: %v", k.name, image, port, err)
	}
	addr := net.JoinHostPort("127.0.0.1", mapped.Port())
	if err := waitPing(k, addr); err != nil {
		t.Fatalf("servers: %s container from %s on %s: %v; its log:\n%s", k.name, image, addr, err, containerLog(ctr))
	}
	return addr
}

// containerLauncher starts Redis-family servers in containers of image on
// the host's network, so that cluster nodes and sentinels announce
// addresses a client can reach, exactly like local processes.
func containerLauncher(image string) launcher {
	return func(t testing.TB, k kind, args []string) (string, error) {
		t.Helper()
		var err error
		for range bindAttempts {
			var port int
			if port, err = freePort(k.busOffset); err != nil {
				return "", err
			}
			var addr string
			addr, err = hostContainer(t, image, k, port, args)
			if err == nil || !errors.Is(err, errAddrInUse) {
				return addr, err
			}
		}
		return "", err
	}
}

// hostContainer runs one server of kind k from image on the host network,
// listening on 127.0.0.1:port.
func hostContainer(t testing.TB, image string, k kind, port int, args []string) (string, error) {
	t.Helper()
	req := testcontainers.ContainerRequest{
		Image:      image,
		Cmd:        append(k.args(port, containerDataDir), args...),
		Labels:     map[string]string{"org.limits-go.test": t.Name()},
		WaitingFor: wait.ForLog(k.readyLog).WithStartupTimeout(readyTimeout),
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
			hc.PortBindings = nil
		},
	}
	if k.files != nil {
		for name, content := range k.files(port) {
			req.Files = append(req.Files, testcontainers.ContainerFile{
				Reader:            strings.NewReader(content),
				ContainerFilePath: path.Join(containerDataDir, name),
				// The image runs as nobody, and a sentinel rewrites
				// its configuration file.
				FileMode: 0o666,
			})
		}
	}
	ctr, err := runContainer(t, req)
	if err != nil {
		err = fmt.Errorf("%s container from %s: %w", k.name, image, err)
		if strings.Contains(err.Error(), "in use") {
			// Another process took the port first: try another.
			err = fmt.Errorf("%w: %w", errAddrInUse, err)
		}
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	if err := waitPing(k, addr); err != nil {
		return "", fmt.Errorf("%s container from %s on %s: %w; its log:\n%s", k.name, image, addr, err, containerLog(ctr))
	}
	return addr, nil
}

// runContainer starts req and terminates the container in t.Cleanup, also
// when starting failed half way.
func runContainer(t testing.TB, req testcontainers.ContainerRequest) (testcontainers.Container, error) {
	t.Helper()
	prepareTestcontainers()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout+dockerTimeout)
	defer cancel()
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: req,
		Started:          true,
		Logger:           tclog.TestLogger(t),
	})
	// Kill at once: the server keeps nothing worth a graceful stop.
	testcontainers.CleanupContainer(t, ctr, testcontainers.StopTimeout(0))
	if err != nil {
		if ctr != nil {
			return nil, fmt.Errorf("%w; its log:\n%s", err, containerLog(ctr))
		}
		return nil, err
	}
	return ctr, nil
}

// containerLog returns the last lines a container wrote, for error messages.
func containerLog(ctr testcontainers.Container) string {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	if len(b) > logTailSize {
		b = b[len(b)-logTailSize:]
	}
	return string(b)
}

// waitPing polls k.ping on addr until it succeeds or readyTimeout passes.
func waitPing(k kind, addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := k.ping(addr, pingTimeout)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
