package dev.sd3studio.engine.runtime;

import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The allocator tuning takes effect: after {@link NativeHeap#configure()} a block of 1.5 MiB is mapped on its own
 * even after a larger mapped block was freed (glibc's default would have raised its threshold above it and
 * served the block from a heap it keeps), so freeing it gives the memory back.
 * <p>
 * glibc serves a request from free space its heaps already hold before it maps anything, and a test JVM that
 * has run a hundred tests holds plenty (this failed once in the full suite for that reason), so the probing
 * runs in a fresh JVM of its own, which prints what it saw.
 */
class NativeHeapTest {
    /** glibc's chunk header: the size word before the block, bit 1 set for a block mapped on its own. */
    private static final long IS_MMAPPED = 0x2;

    @Test
    void largeBlocksStayMappedOnTheirOwnAfterLargeFrees() throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, NativeHeapTest.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("native-heap ok"), out);
        NativeHeap.trim(); // in a busy process too: whether it freed anything depends on the process, not on us
    }

    /** The probing JVM: exits 0 and prints {@code native-heap ok}, or names what it found. */
    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle malloc = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        MethodHandle free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        if (!NativeHeap.configure()) {
            fail("glibc is this machine's C library: mallopt must take the thresholds");
        }
        MemorySegment small = (MemorySegment) malloc.invokeExact(64L << 10);
        if (isMapped(small)) {
            fail("a 64 KiB block was mapped on its own: blocks under the threshold come from the heap");
        }
        free.invokeExact(small);
        for (int round = 0; round < 3; round++) {
            MemorySegment big = (MemorySegment) malloc.invokeExact(24L << 20);
            if (!isMapped(big)) {
                fail("a 24 MiB block was not mapped on its own");
            }
            free.invokeExact(big); // glibc's default raises its mmap threshold to 24 MiB here
            MemorySegment medium = (MemorySegment) malloc.invokeExact(3L << 19);
            boolean mapped = isMapped(medium);
            free.invokeExact(medium);
            if (!mapped) {
                fail("a 1.5 MiB block after a 24 MiB free came from the heap, not mapped on its own");
            }
        }
        System.out.println("native-heap ok");
    }

    private static void fail(String why) {
        System.out.println(why);
        System.exit(1);
    }

    private static boolean isMapped(MemorySegment block) {
        long header = MemorySegment.ofAddress(block.address() - 8).reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        return (header & IS_MMAPPED) != 0;
    }
}
