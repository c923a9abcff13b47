package io.transship.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay in front of a real server, for fault injection: {@link #setDown(boolean)}
 * drops every connection and refuses new ones, then serves again on the same port.
 */
public final class TcpRelay implements AutoCloseable {
  private final int targetPort;
  private final int port;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  public TcpRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    ServerSocket first = bind(0);
    this.port = first.getLocalPort();
    serve(first);
  }

  public int port() {
    return port;
  }

  private static ServerSocket bind(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return socket;
  }

  private void serve(ServerSocket socket) {
    this.server = socket;
    Thread.ofVirtual()
        .start(() -> {
          while (!socket.isClosed()) {
            try {
              Socket client = socket.accept();
              Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
              open.add(client);
              open.add(upstream);
              pump(client, upstream);
              pump(upstream, client);
            } catch (IOException e) {
              return;
            }
          }
        });
  }

  private void pump(Socket from, Socket to) {
    Thread.ofVirtual()
        .start(() -> {
          try (InputStream in = from.getInputStream();
              OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
          } catch (IOException ignored) {
            // a side closed: close both below
          } finally {
            closeQuietly(from);
            closeQuietly(to);
          }
        });
  }

  /** Down: listener closed and every relayed connection cut. Up: listening again. */
  public synchronized void setDown(boolean down) throws IOException {
    if (down) {
      closeQuietly(server);
      open.forEach(TcpRelay::closeQuietly);
      open.clear();
    } else if (server.isClosed()) {
      serve(bind(port));
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    setDown(true);
  }
}
