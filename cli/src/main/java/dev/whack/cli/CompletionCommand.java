package dev.whack.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code whack completion}: the shell completion script, generated from the commands. */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print a completion script for bash and zsh, generated from whack's commands and options."
    },
    footer = {
      "",
      "Examples:",
      "  source <(whack completion)                                this shell",
      "  whack completion > /etc/bash_completion.d/whack            every bash",
      "  whack completion > ~/.whack-completion                   zsh: then add to ~/.zshrc",
      "    autoload -U +X bashcompinit && bashcompinit; source ~/.whack-completion"
    })
final class CompletionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    String script = AutoComplete.bash("whack", spec.root().commandLine());
    Whack.terminal(spec).out().print(script);
    Whack.terminal(spec).out().flush();
    return Whack.EXIT_OK;
  }
}
