package dev.sd3studio.app.hub;

import java.util.regex.Pattern;

/** A Hub model repository at a revision (branch, tag or commit), as typed: {@code owner/name[@revision]}. */
public record RepoRef(String repo, String revision) {
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    public RepoRef {
        if (!REPO.matcher(repo).matches()) {
            throw new IllegalArgumentException("'" + repo + "' is not a Hub repository id; write it as owner/name,"
                    + " for example TensorStack/stable-diffusion-3.5-medium-onnx");
        }
        if (revision == null || revision.isBlank()) {
            throw new IllegalArgumentException("the revision after @ is empty; leave out @ for the main branch");
        }
    }

    /** Parses {@code owner/name} or {@code owner/name@revision}; a full Hub URL is accepted too. */
    public static RepoRef parse(String text) {
        String t = text.strip();
        for (String prefix : new String[] {"https://huggingface.co/", "http://huggingface.co/", "hf://"}) {
            if (t.startsWith(prefix)) {
                t = t.substring(prefix.length());
            }
        }
        int at = t.indexOf('@');
        return at < 0 ? new RepoRef(t, "main") : new RepoRef(t.substring(0, at), t.substring(at + 1));
    }

    /** A folder name for this repository: {@code owner--name}, plus the revision when it is not main. */
    public String folderName() {
        String base = repo.replace("/", "--");
        return "main".equals(revision) ? base : base + "@" + revision.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public String toString() {
        return "main".equals(revision) ? repo : repo + "@" + revision;
    }
}
