// Command hyperkube is one binary for the whole devcluster control plane.
// It dispatches on the name it was started as (argv[0], usually a symlink),
// or on its first argument: `hyperkube kube-apiserver --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	_ "time/tzdata" // CronJob time zones

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl auth plugins
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxy "k8s.io/kubernetes/cmd/kube-proxy/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Each entry mirrors the main() of the upstream command.
var commands = map[string]func(args []string) int{
	"etcd": func(args []string) int {
		etcdmain.Main(args)
		return 0
	},
	"kube-apiserver":          runCobra(apiserver.NewAPIServerCommand),
	"kube-controller-manager": runCobra(controllermanager.NewControllerManagerCommand),
	"kube-scheduler":          runCobra(func() *cobra.Command { return scheduler.NewSchedulerCommand() }),
	"kube-proxy":              runCobra(proxy.NewProxyCommand),
	"kubelet": runCobra(func() *cobra.Command {
		return kubelet.NewKubeletCommand(context.Background())
	}),
	"kubectl": func(args []string) int {
		logs.GlogSetter(kubectlcmd.GetLogVerbosity(args)) // nolint:errcheck
		if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
		return 0
	},
}

func runCobra(newCommand func() *cobra.Command) func(args []string) int {
	return func(_ []string) int { return cli.Run(newCommand()) }
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, known := commands[name]; !known && len(os.Args) > 1 {
		// `hyperkube <command> args...`: shift so the command sees its usual argv.
		name = os.Args[1]
		os.Args = os.Args[1:]
	}
	run, known := commands[name]
	if !known {
		fmt.Fprintf(os.Stderr, "usage: hyperkube <command> [flags]; or symlink it as one of: %v\n", names())
		os.Exit(2)
	}
	os.Exit(run(os.Args))
}

func names() []string {
	list := make([]string, 0, len(commands))
	for name := range commands {
		list = append(list, name)
	}
	sort.Strings(list)
	return list
}
