package dev.sd3studio.app.studio.vm;

/**
 * One encoder's view of a prompt: its token count against its limit, and the prompt split into the
 * part the encoder sees ({@code kept}) and the part it cuts ({@code cut}, empty when it all fits).
 */
public record TokenInfo(String encoder, int count, int limit, String kept, String cut) {
    public boolean truncated() {
        return count > limit;
    }

    public String label() {
        return encoder + " " + count + "/" + limit;
    }
}
