function fakeStream() {
  const c = document.createElement('canvas'); c.width = 1280; c.height = 720; c.getContext('2d').fillRect(0,0,10,10);
  const v = c.captureStream(30).getVideoTracks()[0];
  const ac = new AudioContext(); const osc = ac.createOscillator(); const d = ac.createMediaStreamDestination(); osc.connect(d); osc.start();
  return new MediaStream([d.stream.getAudioTracks()[0], v]);
}
