import { CopyButton } from './copy-button'
import { formatUtc } from './format'
import type { GitCommands } from './get-start'

function Command({ id, title, label, command }: { id: string; title: string; label: string; command: string }) {
  return (
    <section className="command" aria-labelledby={`${id}-title`}>
      <div className="command-head">
        <h3 id={`${id}-title`}>{title}</h3>
        <CopyButton text={command} sourceId={id} label={label} />
      </div>
      <pre>
        <code id={id}>{command}</code>
      </pre>
    </section>
  )
}

/** What a started candidate needs: how to clone, and how pushing and the deadline work. */
export function GitInstructions({ git, completeDeadline }: { git: GitCommands; completeDeadline: string }) {
  return (
    <>
      <section aria-labelledby="clone-title">
        <h2 id="clone-title">Get your repository</h2>
        <p>
          Your private repository is ready. To clone it, open a terminal in the folder where you want it and run the
          command for your system. You need git and curl, which most systems already have.
        </p>
        <div className="notice notice-warning">
          <p>
            <strong>Keep these commands to yourself.</strong> They contain a personal secret that gives access to your
            repository: do not share them, post them, or commit them anywhere.
          </p>
        </div>
        <Command id="clone-command-bash" title="macOS and Linux (bash, zsh)" label="the macOS and Linux command" command={git.clone_command} />
        <Command
          id="clone-command-powershell"
          title="Windows (PowerShell)"
          label="the PowerShell command"
          command={git.clone_command_powershell}
        />
        {git.github_clone_command && git.github_clone_command_powershell && (
          <details className="fallback">
            <summary>If cloning through our server fails</summary>
            <p>
              Your repository lives on GitHub. If the commands above fail, these clone it straight from GitHub; your
              credential still comes from our server, and pushing from that clone works the same way.
            </p>
            <Command
              id="clone-command-github-bash"
              title="macOS and Linux, straight from GitHub"
              label="the macOS and Linux command for GitHub"
              command={git.github_clone_command}
            />
            <Command
              id="clone-command-github-powershell"
              title="Windows (PowerShell), straight from GitHub"
              label="the PowerShell command for GitHub"
              command={git.github_clone_command_powershell}
            />
          </details>
        )}
      </section>

      <section aria-labelledby="how-title">
        <h2 id="how-title">How to work</h2>
        <ul className="steps">
          <li>
            Work in the cloned folder with your usual tools. Commit, and run <code>git push origin main</code> as often as
            you like: what is on <code>main</code> is what gets reviewed.
          </li>
          <li>
            Pushing stops at the deadline, <time dateTime={completeDeadline}>{formatUtc(completeDeadline)}</time>. Whatever
            you pushed by then is kept.
          </li>
          {!git.workflow_changes_allowed && (
            <li>
              Pushes that change files under <code>.github/workflows</code> are refused: this assessment does not allow
              changes to GitHub Actions workflows.
            </li>
          )}
          <li>
            Your credential is set only for this clone: nothing is installed globally and your own git settings are left
            as they are.
          </li>
        </ul>
      </section>
    </>
  )
}
