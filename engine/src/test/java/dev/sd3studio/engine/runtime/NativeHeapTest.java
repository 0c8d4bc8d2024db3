package dev.sd3studio.engine.runtime;

import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The allocator tuning takes effect: after {@link NativeHeap#configure()} a block of 1.5 MiB is mapped on its own
 * even after a larger mapped block was freed (glibc's default would have raised its threshold above it and
 * served the block from a heap it keeps), so freeing it gives the memory back.
 */
class NativeHeapTest {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().find("free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    /** glibc's chunk header: the size word before the block, bit 1 set for a block mapped on its own. */
    private static final long IS_MMAPPED = 0x2;

    @Test
    void largeBlocksStayMappedOnTheirOwnAfterLargeFrees() throws Throwable {
        assertTrue(NativeHeap.configure(), "glibc is this machine's C library: mallopt must take the thresholds");
        for (int round = 0; round < 3; round++) {
            MemorySegment big = malloc(8 << 20);
            assertTrue(isMapped(big), "an 8 MiB block is mapped on its own");
            FREE.invokeExact(big); // glibc's default raises its mmap threshold to 8 MiB here
            MemorySegment medium = malloc(3 << 19);
            try {
                assertTrue(isMapped(medium), "a 1.5 MiB block after an 8 MiB free must still be mapped on its own");
            } finally {
                FREE.invokeExact(medium);
            }
        }
    }

    @Test
    void smallBlocksStayInTheHeap() throws Throwable {
        NativeHeap.configure();
        MemorySegment small = malloc(64 << 10);
        try {
            assertFalse(isMapped(small), "blocks under the threshold come from the heap as before");
        } finally {
            FREE.invokeExact(small);
        }
        NativeHeap.trim(); // must not fail; whether pages were free to release depends on the whole process
    }

    private static MemorySegment malloc(long bytes) throws Throwable {
        MemorySegment p = (MemorySegment) MALLOC.invokeExact(bytes);
        assertFalse(p.equals(MemorySegment.NULL), "malloc failed");
        return p;
    }

    private static boolean isMapped(MemorySegment block) {
        long header = MemorySegment.ofAddress(block.address() - 8).reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        return (header & IS_MMAPPED) != 0;
    }
}
