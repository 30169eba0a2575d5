/**
 * Which memory group a session belongs to. The memory process derives the group id from the project
 * directory (docs/architecture.md), so the plugin sends `project_dir`; an operator can pin every
 * project to one group with MEMORY_GROUP_ID instead.
 */
export type MemoryScope = { project_dir: string } | { group_id: string };

const GROUP_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidGroupId(groupId: string): boolean {
  return GROUP_ID_PATTERN.test(groupId);
}

/**
 * OpenCode reports worktree "/" for a directory outside any git repository (its "global" project);
 * the session's own directory is then the only meaningful project. Inside a repository the worktree
 * root keeps all subdirectories of one repository in one group.
 */
export function projectDirectory(location: { directory?: string; worktree?: string }): string {
  const worktree = location.worktree?.trim();
  if (worktree && worktree !== "/") return worktree;
  const directory = location.directory?.trim();
  return directory || worktree || "/";
}

export function memoryScope(
  location: { directory?: string; worktree?: string },
  groupIdOverride: string | undefined,
): MemoryScope {
  if (groupIdOverride && isValidGroupId(groupIdOverride)) return { group_id: groupIdOverride };
  return { project_dir: projectDirectory(location) };
}
