package dev.whack.node.durability;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The data directory's {@code lock} file, locked by the node that uses the directory: a second node
 * started on it (by mistake, or while the first still writes its last snapshot) would replay,
 * snapshot and delete files under the first one's feet, so it refuses to start instead. The
 * operating system releases the lock when the process dies, so a crash leaves nothing to clean up.
 */
final class DirectoryLock implements AutoCloseable {
  static final String FILE = "lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * @throws IOException when another node (in this process or another) holds the directory
   */
  static DirectoryLock take(Path dir) throws IOException {
    FileChannel channel =
        FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new IOException(
          "the data directory " + dir + " is in use by another node (its lock file is held)");
    }
    return new DirectoryLock(channel, lock);
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
