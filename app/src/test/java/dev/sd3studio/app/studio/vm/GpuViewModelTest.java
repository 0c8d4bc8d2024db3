package dev.sd3studio.app.studio.vm;

import dev.sd3studio.app.gpu.GpuPackInstaller;
import dev.sd3studio.app.gpu.GpuPackRecipe;
import dev.sd3studio.app.gpu.GpuStatus;
import dev.sd3studio.app.studio.task.DirectTaskRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GPU dialog's words without a toolkit: no "null", and no pack offered where there is no driver. */
class GpuViewModelTest {
    @TempDir
    Path tmp;

    private GpuViewModel gpu(Supplier<GpuStatus> probe) {
        return new GpuViewModel(new DirectTaskRunner(), probe, new GpuPackInstaller(tmp), GpuPackRecipe.standard());
    }

    @Test
    void withoutADriverThePackIsNotOfferedAndSaysWhy() {
        GpuViewModel vm = gpu(() -> new GpuStatus(Optional.empty(), List.of(), List.of(), Optional.empty(), true));
        vm.refresh();
        assertTrue(vm.installBlockedProperty().get().contains("No NVIDIA driver"), vm.installBlockedProperty().get());
        GpuViewModel withDriver = gpu(() -> new GpuStatus(Optional.of(new GpuStatus.Driver("550.54", "12.4", "test")), List.of(),
                List.of(), Optional.empty(), true));
        withDriver.refresh();
        assertEquals("", withDriver.installBlockedProperty().get());
    }

    @Test
    void aFailureWithoutAMessageIsNamedInWords() {
        GpuViewModel vm = gpu(() -> {
            throw new IllegalStateException();
        });
        vm.refresh();
        assertFalse(vm.statusProperty().get().contains("null"), vm.statusProperty().get());
        assertEquals("The GPU check failed: illegal state error", vm.statusProperty().get());
        assertEquals("connect error", GpuViewModel.inWords(new ConnectException()));
        assertEquals("connect error", GpuViewModel.inWords(new ConnectException(" ")));
        assertEquals("no route", GpuViewModel.inWords(new ConnectException("no route")));
    }
}
